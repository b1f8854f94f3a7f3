"""Connecting a Shopify store: `*.myshopify.com` domain + Admin API token, checked with
`{ shop { name } }` (whose answer the console shows), stored encrypted; Shopify Flow uses the same
connection."""

import json

import pytest
from django.db import connection as db
from django.db import transaction
from django.test import Client

from integrations.models import Integration
from integrations.services import integration_connect
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from tests import factories as f
from tests.shopify.conftest import APP_SECRET, DOMAIN, TOKEN, URL, answer, connect, sent
from webhooks import engine
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db
PAGE = "/admin/integrations/integration/"


@pytest.fixture
def staff(shop):
    membership = f.StaffMembershipFactory(shop=shop)
    client = Client()
    client.force_login(membership.user)
    return client


def test_connecting_checks_the_token_and_keeps_the_shop_name(shop, mocked):
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))
    integration = integration_connect(
        shop=shop,
        partner_key="shopify",
        credentials={"shop_domain": f"https://{DOMAIN.upper()}/", "access_token": TOKEN},
    )

    assert sent(mocked.calls[0]) == {"query": "{ shop { name } }", "variables": {}}
    assert mocked.calls[0].request.headers["X-Shopify-Access-Token"] == TOKEN
    assert integration.state == Integration.State.CONNECTED
    assert integration.config == {"shop_domain": DOMAIN, "shop_name": "Demo Shop"}
    assert integration.events == ["subscription.transaction_succeeded"]
    # Encrypted at rest: the token is not in the database's text.
    with db.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored


@pytest.mark.parametrize("domain", ["demo-shop.example.com", "demo shop.myshopify.com", "myshopify.com", ""])
def test_a_domain_that_is_not_myshopify_is_refused_without_a_call(shop, mocked, domain):
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=shop, partner_key="shopify", credentials={"shop_domain": domain, "access_token": TOKEN}
        )
    assert refused.value.field == "shop_domain"
    assert len(mocked.calls) == 0
    assert not Integration.objects.exists()


def test_a_refused_token_names_the_token_and_saves_nothing(shop, mocked):
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=shop, partner_key="shopify", credentials={"shop_domain": DOMAIN, "access_token": "shpat_bad"}
        )
    assert refused.value.field == "access_token"
    assert "shpat_bad" not in refused.value.message
    assert not Integration.objects.exists()


def test_one_store_serves_one_shop(shop, mocked):
    connect(shop, mocked)
    other = f.ShopFactory()
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=other, partner_key="shopify", credentials={"shop_domain": DOMAIN, "access_token": TOKEN}
        )
    assert refused.value.field == "shop_domain"
    assert "another shop" in refused.value.message


def test_the_console_connects_and_shows_the_shop_name(shop, staff, mocked):
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))
    response = staff.post(
        f"{PAGE}shopify/connect/",
        {
            "shop_domain": DOMAIN,
            "access_token": TOKEN,
            "api_secret": "",
            "events": ["subscription.transaction_succeeded"],
        },
    )
    assert response.status_code == 302
    page = staff.get(PAGE).content.decode()
    assert "Demo Shop" in page and DOMAIN in page
    assert TOKEN not in page


def test_the_console_names_a_bad_domain(shop, staff, mocked):
    response = staff.post(
        f"{PAGE}shopify/connect/", {"shop_domain": "shop.example.com", "access_token": TOKEN}
    )
    assert response.status_code == 200
    assert "myshopify.com" in response.content.decode()
    assert not Integration.objects.exists()


def test_send_test_reads_the_shop_name(shop, staff, mocked):
    connect(shop, mocked)
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))
    response = staff.post(
        f"{PAGE}shopify/test/", {"event_type": "subscription.transaction_succeeded"}, follow=True
    )
    assert "accepted the test" in response.content.decode()
    assert sent(mocked.calls[0])["query"] == "{ shop { name } }"


def test_flow_uses_the_store_connection(shop, mocked):
    connect(shop, mocked)
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))
    flow = integration_connect(
        shop=shop, partner_key="shopify_flow", credentials={"shop_domain": "", "access_token": ""}
    )
    assert flow.config["shop_domain"] == DOMAIN
    assert mocked.calls[0].request.headers["X-Shopify-Access-Token"] == TOKEN
    mocked.calls.reset()

    sub = f.SubscriptionFactory(shop=shop)
    with transaction.atomic():
        services.subscription_skip(subscription=sub, actor=Actor.admin("ops"))
    mocked.post(URL, json={"data": {"flowTriggerReceive": {"userErrors": []}}})
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="integration", destination_id=str(flow.pk))
    engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    call = mocked.calls[0]
    assert call.request.headers["X-Shopify-Access-Token"] == TOKEN
    assert json.loads(call.request.body)["variables"]["handle"] == "subscription-skipped"


def test_flow_without_a_store_connection_asks_for_one(shop, mocked):
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=shop, partner_key="shopify_flow", credentials={"shop_domain": "", "access_token": ""}
        )
    assert refused.value.field == "shop_domain"
    assert "Shopify store" in refused.value.message
    assert len(mocked.calls) == 0


def test_the_app_secret_is_kept_for_webhooks(shop, mocked):
    integration = connect(shop, mocked)
    assert integration.credentials["api_secret"] == APP_SECRET
