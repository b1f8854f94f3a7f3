"""Gorgias in the merchant console ("Connect and create widget"), and the help text's fallback
set-up walked literally: a key made under Integrations > API Keys, the HTTP integration URL and
the custom skip button URL typed by hand in Gorgias (macros filled as Gorgias fills them)."""

import datetime as dt
import json
import re

import pytest
import responses
from django.test import Client
from rest_framework.test import APIClient

from integrations.models import ApiKey, Integration
from subscriptions.models import ActivityLog, SkippedDate
from tests import factories as f
from tests.contract.gorgias_macros import render, ticket_context

pytestmark = pytest.mark.django_db

PAGE = "/admin/integrations/integration/"
CONNECT = f"{PAGE}gorgias/connect/"
API = "https://acme.gorgias.com/api"
SITE = "https://subs.example.com"

# The help text's fallback set-up, as written there (its host stands for ours).
SEED_HOST = "https://api.smartrr.com"
SEED_LOOKUP_URL = f"{SEED_HOST}/vendor/order/formatted?filterLike[emailOrName]={{{{ticket.customer.email}}}}"
SEED_SKIP_URL = (
    f"{SEED_HOST}/vendor/customer/{{{{ticket.customer.integrations.42404.data[0].custRel.id}}}}"
    "/purchase-state/{{ticket.customer.integrations.42404.data[0].sts[0].id}}/skip"
)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory(role="owner")
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def test_connect_page_asks_for_domain_email_and_key_and_offers_connect_and_create_widget(staff):
    page = staff.get(CONNECT)
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("Gorgias domain", "Agent email", "REST API key", "Connect and create widget"):
        assert label in html
    assert "Events it receives" not in html  # Gorgias receives no events


def test_connect_and_create_widget_from_the_console(staff, wire):
    wire.get(f"{API}/account", json={"domain": "acme"})
    wire.post(f"{API}/integrations", json={"id": 77}, status=201)
    wire.post(f"{API}/widgets", json={"id": 8}, status=201)
    response = staff.post(
        CONNECT, {"domain": "acme", "email": "agent@acme.example.com", "api_key": "rest-key"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Gorgias is connected" in html and "widget (id 8)" in html
    integration = Integration.objects.get(shop=staff.shop, partner="gorgias")
    assert integration.state == Integration.State.CONNECTED
    assert integration.config["widget_id"] == 8 and integration.config["gorgias_integration_id"] == 77
    assert "rest-key" not in html

    # The overview card: connected, with Update and Disconnect but no events or test sends.
    card = staff.get(PAGE).content.decode().split('id="partner-gorgias"')[1].split("</section>")[0]
    assert "Connected" in card and "Send test" not in card and "Events it receives" not in card

    # Saving again replaces the widget (PUT), never adds a second one.
    wire.put(f"{API}/integrations/77", json={"id": 77})
    wire.put(f"{API}/widgets/8", json={"id": 8})
    staff.post(CONNECT, {"domain": "acme", "email": "agent@acme.example.com"}, follow=True)
    assert (
        len([c for c in wire.calls if c.request.method == "POST" and c.request.url == f"{API}/widgets"]) == 1
    )
    assert len([c for c in wire.calls if c.request.method == "PUT"]) == 2
    assert (
        ApiKey.objects.filter(
            shop=staff.shop, application_nickname="Gorgias", revoked_at__isnull=True
        ).count()
        == 1
    )


def test_when_the_widget_cannot_be_made_the_console_says_so_and_keeps_the_connection(staff, wire):
    wire.get(f"{API}/account", json={"domain": "acme"})
    wire.post(f"{API}/integrations", json={"error": {"msg": "down"}}, status=502)
    response = staff.post(
        CONNECT, {"domain": "acme", "email": "agent@acme.example.com", "api_key": "rest-key"}, follow=True
    )
    html = response.content.decode()
    assert "the set-up did not finish" in html and "Save again to retry" in html
    assert Integration.objects.get(shop=staff.shop, partner="gorgias").state == Integration.State.CONNECTED


def test_wrong_credentials_are_shown_on_the_field_and_nothing_is_saved(staff, wire):
    wire.get(f"{API}/account", json={"error": {"msg": "Unauthorized"}}, status=401)
    response = staff.post(CONNECT, {"domain": "acme", "email": "agent@acme.example.com", "api_key": "bad"})
    assert response.status_code == 200
    assert "refused the credentials" in response.content.decode()
    assert not Integration.objects.filter(shop=staff.shop, partner="gorgias").exists()


def test_the_help_texts_fallback_setup_works_against_our_api(staff):
    shop = staff.shop
    customer = f.CustomerFactory(shop=shop, email="jane+subs@example.com", first_name="Jane", last_name="Doe")
    f.SubscriptionFactory(customer=customer, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    recent = f.SubscriptionFactory(customer=customer)

    # "the access token you generated back in the Smartrr app in the Integrations tab"
    created = staff.post(
        "/admin/integrations/apikey/add/",
        {
            "token_nickname": "Gorgias (manual)",
            "application_nickname": "",
            "perm_subscriptions": "write",
            "perm_customers": "read",
            "perm_webhooks": "none",
            "perm_orders": "none",
            "perm_loyalty": "none",
            "perm_discounts": "none",
        },
    )
    assert created.status_code == 200, created.content[:500]
    token = re.search(r'value="(sk_[^"]+)"', created.content.decode()).group(1)

    # Gorgias's HTTP integration: the seed's URL, with the x-smartrr-access-token header.
    gorgias = APIClient()
    gorgias.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=token)
    ticket = ticket_context(ticket_id=31, email=customer.email)
    lookup = gorgias.get(render(SEED_LOOKUP_URL, ticket).removeprefix(SEED_HOST))
    assert lookup.status_code == 200, lookup.content
    data = lookup.json()
    assert data["data"][0]["custRel"]["email"] == customer.email
    assert data["data"][0]["sts"][0]["id"] == recent.pk

    # The custom skip button, "including the same header and token", method PUT.
    skipped_date = recent.next_billing_date
    url = render(
        SEED_SKIP_URL, ticket_context(ticket_id=31, email=customer.email, integrations={42404: data})
    )
    response = gorgias.put(url.removeprefix(SEED_HOST))
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["skippedDates"] == [skipped_date.isoformat()]
    assert SkippedDate.objects.filter(subscription=recent, date=skipped_date).exists()
    assert ActivityLog.objects.get(subscription=recent, action="skipped").actor_type == "api"
