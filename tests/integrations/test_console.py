"""Integrations in the merchant console: partner cards, connect / update / send test / disconnect,
events, secrets never shown or logged, shop scoping, and the guided Blueprint set-up walked end to
end the way Blueprint uses it (its key, its webhook, a reply that skips the order)."""

import datetime as dt
import json
import logging
import re

import pytest
import responses
from django.test import Client
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from integrations.models import Access, ApiKey, Integration
from integrations.partners import partners
from subscriptions.models import SkippedDate
from subscriptions.services.notices import shop_send_notices
from tests import factories as f
from tests.webhooks.receiver import Receiver
from webhooks import engine
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

PAGE = "/admin/integrations/integration/"
KLAVIYO = f"{PAGE}klaviyo/"
PROFILES = "https://a.klaviyo.com/api/profile-import"
EVENTS = "https://a.klaviyo.com/api/events"
PUBLIC = "AbC123"
PRIVATE = "pk_0123456789abcdef0123456789abcdef01"
BAD_PRIVATE = "pk_wrongwrongwrongwrongwrongwrong99"


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory()
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


@pytest.fixture
def recorded():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    with Receiver() as server:
        yield server


def _connected(shop, **extra) -> Integration:
    fields = dict(
        shop=shop,
        partner="klaviyo",
        state=Integration.State.CONNECTED,
        credentials={"public_key": PUBLIC, "private_key": PRIVATE},
        events=["subscription.skipped", "subscription.paused"],
    )
    fields.update(extra)
    return Integration.objects.create(**fields)


def _connect(client, **data):
    return client.post(f"{KLAVIYO}connect/", {"public_key": PUBLIC, "private_key": PRIVATE, **data})


# ---------------------------------------------------------------- overview


def test_the_page_is_reachable_from_the_console_index_and_shows_every_partner(staff):
    index = staff.get("/admin/").content.decode()
    assert f'href="{PAGE}"' in index

    page = staff.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    for partner in partners().values():
        assert f'id="partner-{partner.key}"' in html
        assert partner.name in html
    assert 'id="partner-blueprint"' in html
    assert html.count("Not connected") >= len(partners())
    assert f'href="{KLAVIYO}connect/"' in html


def test_a_card_shows_state_last_error_and_last_success(staff):
    integration = _connected(
        staff.shop,
        state=Integration.State.NEEDS_ATTENTION,
        last_error="401: the partner refused our credentials",
        last_error_at=dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC),
        last_success_at=dt.datetime(2025, 3, 13, 8, 0, tzinfo=dt.UTC),
    )
    html = staff.get(PAGE).content.decode()
    card = html[html.index('id="partner-klaviyo"') :]
    card = card[: card.index("</section>")]
    assert "Needs attention" in card
    assert integration.last_error in card
    assert "2025" in card and "Last successful send" in card
    for button in ("Update", "Send test", "Disconnect"):
        assert button in card
    # The events it receives, as a multiple choice with the chosen ones ticked.
    assert re.search(r'value="subscription.skipped"[^>]*checked', card)
    assert not re.search(r'value="subscription.created"[^>]*checked', card)


# ---------------------------------------------------------------- connect / update


def test_connect_checks_the_keys_and_never_shows_them_again(staff, recorded):
    recorded.post(PROFILES, status=201)
    response = _connect(staff, events=["subscription.created", "subscription.skipped"])
    assert response.status_code == 302

    integration = Integration.objects.get(shop=staff.shop, partner="klaviyo")
    assert integration.state == Integration.State.CONNECTED
    assert integration.events == ["subscription.created", "subscription.skipped"]
    assert integration.credentials == {"public_key": PUBLIC, "private_key": PRIVATE}

    for url in (PAGE, f"{KLAVIYO}connect/"):
        html = staff.get(url).content.decode()
        assert PRIVATE not in html and PUBLIC not in html
    form = staff.get(f"{KLAVIYO}connect/").content.decode()
    assert re.search(r'<input type="password" name="private_key"(?![^>]*value=)', form)
    assert re.search(r'<input type="password" name="public_key"(?![^>]*value=)', form)
    assert form.count("saved — enter a new value to replace it") == 2


def test_update_keeps_saved_keys_left_empty_and_changes_events(staff, recorded):
    _connected(staff.shop)
    recorded.post(PROFILES, status=200)
    response = staff.post(
        f"{KLAVIYO}connect/", {"public_key": "", "private_key": "", "events": ["subscription.paused"]}
    )
    assert response.status_code == 302
    integration = Integration.objects.get()
    assert integration.credentials == {"public_key": PUBLIC, "private_key": PRIVATE}
    assert integration.events == ["subscription.paused"]
    # The check ran again with the saved key.
    assert recorded.calls[0].request.headers["Authorization"] == f"Klaviyo-API-Key {PRIVATE}"


def test_a_refused_key_is_reported_next_to_its_field_and_never_echoed(staff, recorded, caplog):
    caplog.set_level(logging.DEBUG)
    existing = _connected(staff.shop)
    recorded.post(
        PROFILES,
        status=401,
        json={"errors": [{"status": 401, "detail": f"Incorrect key {BAD_PRIVATE}"}]},
    )
    response = staff.post(f"{KLAVIYO}connect/", {"public_key": PUBLIC, "private_key": BAD_PRIVATE})

    assert response.status_code == 200
    html = response.content.decode()
    field = html[html.index("field-private_key") :]
    field = field[: field.index("</div>")]
    assert "errorlist" in field and "did not accept the private API key" in field
    assert BAD_PRIVATE not in html
    existing.refresh_from_db()
    assert existing.credentials["private_key"] == PRIVATE  # nothing saved from a refused attempt
    assert BAD_PRIVATE not in existing.last_error
    assert BAD_PRIVATE not in caplog.text
    assert BAD_PRIVATE not in staff.get(PAGE).content.decode()


def test_a_mistyped_public_key_is_reported_on_its_field_without_calling_klaviyo(staff, recorded):
    response = staff.post(f"{KLAVIYO}connect/", {"public_key": "not-a-key", "private_key": PRIVATE})
    html = response.content.decode()
    field = html[html.index("field-public_key") :]
    assert "6-character site ID" in field[: field.index("</div>")]
    assert "not-a-key" not in html and PRIVATE not in html
    assert len(recorded.calls) == 0
    assert not Integration.objects.exists()


def test_events_can_be_changed_from_the_card(staff):
    integration = _connected(staff.shop)
    response = staff.post(f"{KLAVIYO}events/", {"events": ["subscription.created", "loyalty.points_earned"]})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.events == ["subscription.created", "loyalty.points_earned"]
    assert staff.post(f"{KLAVIYO}events/", {"events": ["nope"]}).status_code == 302
    integration.refresh_from_db()
    assert integration.events == ["subscription.created", "loyalty.points_earned"]


def test_send_test_goes_to_the_test_profile(staff, recorded, settings):
    settings.KLAVIYO_TEST_PROFILE_EMAIL = "flows@example.com"
    f.SubscriptionFactory(shop=staff.shop)  # a real customer, who must not get the test
    _connected(staff.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    response = staff.post(f"{KLAVIYO}test/", {"event_type": "subscription.skipped"}, follow=True)
    assert "accepted the test" in response.content.decode()
    body = json.loads(recorded.calls[0].request.body)["data"]["attributes"]
    assert body["metric"]["data"]["attributes"]["name"] == "Smartrr: Subscription skipped"
    assert body["profile"]["data"]["attributes"]["email"] == "flows@example.com"

    recorded.replace(responses.POST, EVENTS, status=401)
    response = staff.post(f"{KLAVIYO}test/", {"event_type": "subscription.paused"}, follow=True)
    assert "did not accept the test" in response.content.decode()
    assert PRIVATE not in response.content.decode()


def test_disconnect_asks_first_then_forgets_the_keys(staff):
    integration = _connected(staff.shop)
    assert "Disconnect Klaviyo" in staff.get(f"{KLAVIYO}disconnect/").content.decode()
    assert staff.post(f"{KLAVIYO}disconnect/").status_code == 302
    integration.refresh_from_db()
    assert integration.state == Integration.State.DISCONNECTED
    assert integration.credentials == {}
    card = staff.get(PAGE).content.decode()
    card = card[card.index('id="partner-klaviyo"') :]
    assert "Not connected" in card[: card.index("</section>")]


# ---------------------------------------------------------------- scoping and permissions


def test_staff_see_and_change_only_their_own_shop(staff):
    other = f.ShopFactory()
    _connected(other, last_error="other shop's trouble", state=Integration.State.NEEDS_ATTENTION)
    html = staff.get(f"{PAGE}?shop={other.pk}").content.decode()
    assert "other shop's trouble" not in html
    assert staff.post(f"{KLAVIYO}disconnect/?shop={other.pk}").status_code == 404
    assert Integration.objects.get(shop=other).state == Integration.State.NEEDS_ATTENTION


def test_a_superuser_picks_the_shop(db):
    shop = f.ShopFactory(name="Beans & Co")
    _connected(shop, last_error="seen by the superuser")
    admin = f.UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    chooser = client.get(PAGE).content.decode()
    assert f'href="?shop={shop.pk}"' in chooser
    html = client.get(f"{PAGE}?shop={shop.pk}").content.decode()
    assert "seen by the superuser" in html
    assert f"{KLAVIYO}disconnect/?shop={shop.pk}" in html
    assert client.post(f"{KLAVIYO}disconnect/?shop={shop.pk}").status_code == 302
    assert Integration.objects.get().state == Integration.State.DISCONNECTED


def test_staff_without_permission_cannot_connect(db):
    membership = f.StaffMembershipFactory(role="support")
    client = Client()
    client.force_login(membership.user)
    assert client.get(PAGE).status_code == 403
    assert (
        client.post(f"{KLAVIYO}connect/", {"public_key": PUBLIC, "private_key": PRIVATE}).status_code == 403
    )
    assert client.post(f"{PAGE}blueprint/").status_code == 403
    assert not ApiKey.objects.exists()


# ---------------------------------------------------------------- Blueprint


def _blueprint_key(staff) -> str:
    response = staff.post(f"{PAGE}blueprint/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    return re.search(r'value="(sk_[^"]+)"', response.content.decode()).group(1)


def test_blueprint_gets_a_key_of_its_own_shown_once(staff):
    intro = staff.get(f"{PAGE}blueprint/").content.decode()
    assert "Create the Blueprint key" in intro
    raw = _blueprint_key(staff)
    key = ApiKey.objects.get()
    assert (key.shop, key.token_nickname, key.application_nickname) == (staff.shop, "Blueprint", "Blueprint")
    assert (key.perm_subscriptions, key.perm_customers, key.perm_webhooks) == (Access.WRITE,) * 3
    assert (key.perm_orders, key.perm_loyalty, key.perm_discounts) == (Access.NONE,) * 3
    prefix, _, secret = raw.partition(".")
    assert key.prefix == prefix and key.matches(secret)
    page = staff.get(PAGE).content.decode()
    assert secret not in page
    assert "API key created" in page


def test_blueprint_end_to_end(staff, receiver):
    shop = staff.shop
    raw = _blueprint_key(staff)
    blueprint = APIClient()
    blueprint.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)

    # Blueprint registers its webhook with the key.
    created = blueprint.post(
        "/vendor/webhook", {"topic": "Subscription upcoming order", "url": receiver.url}, format="json"
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]

    # The notice tick finds an order three days ahead; the engine delivers the signed event.
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=shop.local_today() + dt.timedelta(days=3))
    assert shop_send_notices(shop=shop)["upcoming_order"] == 1
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="webhook")
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    payload = Webhook(secret).verify(request["body"], headers)
    assert payload["type"] == "subscription.upcoming_order"

    # The customer answers SKIP; Blueprint skips with the ids the event carried.
    customer_id = payload["data"]["customer"]["id"]
    subscription_id = payload["data"]["subscription"]["id"]
    skipped = blueprint.put(f"/vendor/customer/{customer_id}/purchase-state/{subscription_id}/skip")
    assert skipped.status_code == 200, skipped.content
    assert SkippedDate.objects.filter(
        subscription=sub, date=sub.next_billing_date, unskipped_at__isnull=True
    ).exists()
