"""Twilio wire format (Programmable Messaging, API 2010-04-01): the connect check, texts as
`POST /Accounts/{AccountSid}/Messages.json` (basic auth, form-encoded To/From/Body), Twilio's
documented answers (201 message resource; errors `{"code", "message", "more_info", "status"}`),
quiet hours, and the request signature of inbound webhooks."""

import base64
import datetime as dt
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import responses
import time_machine
from django.db import transaction

from integrations.models import Integration
from integrations.services import integration_connect
from notifications import twilio
from notifications.models import Unsubscribe
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_subscription_event
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "auth_token_0123456789abcdef0123"
FROM = "+15005550006"
MESSAGES_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
ACCOUNT_URL = f"https://api.twilio.com/2010-04-01/Accounts/{SID}.json"
NEW_YORK = ZoneInfo("America/New_York")
AFTERNOON = dt.datetime(2025, 3, 12, 15, 0, tzinfo=NEW_YORK)
NIGHT = dt.datetime(2025, 3, 12, 23, 30, tzinfo=NEW_YORK)

# Twilio's documented answers.
MESSAGE_201 = {
    "account_sid": SID,
    "api_version": "2010-04-01",
    "body": "...",
    "date_created": "Wed, 12 Mar 2025 19:00:00 +0000",
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": FROM,
    "num_segments": "1",
    "sid": "SM" + "f" * 32,
    "status": "queued",
    "to": "+15550104477",
    "uri": f"/2010-04-01/Accounts/{SID}/Messages/SM{'f' * 32}.json",
}


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://subs.example.com"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(first_name="Rosa", email="rosa@example.com", phone="(555) 010-4477")
    return f.SubscriptionFactory(customer=customer)


def _connect(shop, mocked, config=None):
    mocked.get(ACCOUNT_URL, json={"sid": SID, "status": "active", "friendly_name": "Shop"})
    return integration_connect(
        shop=shop,
        partner_key="twilio",
        credentials={"account_sid": SID, "auth_token": TOKEN},
        config={"from_number": FROM, **(config or {})},
    )


@pytest.fixture
def connected(sub, mocked):
    integration = _connect(sub.shop, mocked)
    mocked.calls.reset()
    return integration


def _emit(sub, event_type, extra=None):
    with transaction.atomic():
        emit_subscription_event(event_type, sub, actor=Actor.customer(), extra=extra)


def _form(call) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body)


def _deliver() -> Delivery:
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="integration", status=Delivery.Status.PENDING)
    engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


# ---------------------------------------------------------------- connect


def test_connect_checks_the_account_with_basic_auth(sub, mocked):
    integration = _connect(sub.shop, mocked)

    (call,) = mocked.calls
    assert (call.request.method, call.request.url) == ("GET", ACCOUNT_URL)
    expected = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED
    assert integration.credentials == {"account_sid": SID, "auth_token": TOKEN}
    assert integration.config["quiet_hours"] is True and integration.config["delay_days"] == 7
    assert twilio.inbound_url(integration).startswith("https://subs.example.com/hooks/twilio/")
    assert set(integration.events) == set(twilio.EVENTS)


def test_credentials_are_encrypted_at_rest(connected):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [connected.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored and SID not in stored


def test_a_refused_auth_token_is_reported_on_its_field(sub, mocked):
    mocked.get(ACCOUNT_URL, status=401, json=_error(20003, "Authenticate", 401))
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=sub.shop,
            partner_key="twilio",
            credentials={"account_sid": SID, "auth_token": "wrong"},
            config={"from_number": FROM},
        )
    assert refused.value.field == "auth_token" and "wrong" not in refused.value.message
    assert not Integration.objects.filter(partner="twilio").exists()


@pytest.mark.parametrize(
    ("credentials", "config", "field"),
    [
        ({"account_sid": "XX123", "auth_token": TOKEN}, {"from_number": FROM}, "account_sid"),
        ({"account_sid": SID, "auth_token": TOKEN}, {"from_number": "my number"}, "from_number"),
    ],
)
def test_bad_shapes_are_refused_without_calling_twilio(sub, mocked, credentials, config, field):
    with pytest.raises(DomainError) as refused:
        integration_connect(shop=sub.shop, partner_key="twilio", credentials=credentials, config=config)
    assert refused.value.field == field
    assert len(mocked.calls) == 0


# ---------------------------------------------------------------- texts


@time_machine.travel(AFTERNOON, tick=False)
def test_the_upcoming_order_text_offers_skip_and_delay(connected, sub, mocked):
    mocked.post(MESSAGES_URL, status=201, json=MESSAGE_201)
    _emit(sub, "subscription.upcoming_order", {"days_until_order": 3})

    delivery = _deliver()

    assert delivery.status == Delivery.Status.SUCCEEDED
    (call,) = mocked.calls
    assert call.request.method == "POST" and call.request.url == MESSAGES_URL
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.request.headers["Authorization"].startswith("Basic ")
    form = {k: v[0] for k, v in _form(call).items()}
    assert form["To"] == "+15550104477" and form["From"] == FROM
    date = sub.next_billing_date.strftime("%B %-d, %Y")
    assert form["Body"] == (
        f"{sub.shop.name}: hi Rosa, your next order is on {date}. "
        "Reply SKIP to skip it, or DELAY to move it by 7 days (DELAY 14: 14 days)."
    )


@time_machine.travel(AFTERNOON, tick=False)
def test_a_messaging_service_sends_as_messaging_service_sid(sub, mocked):
    _connect(sub.shop, mocked, config={"from_number": "MG" + "a" * 32})
    mocked.post(MESSAGES_URL, status=201, json=MESSAGE_201)
    _emit(sub, "subscription.transaction_failed")
    _deliver()
    form = _form(mocked.calls[-1])
    assert form["MessagingServiceSid"] == ["MG" + "a" * 32] and "From" not in form
    assert "/account/link/" in form["Body"][0]


@time_machine.travel(AFTERNOON, tick=False)
@pytest.mark.parametrize(
    ("status", "body", "headers", "outcome", "error"),
    [
        (
            400,
            _error(21211, "The 'To' number +1555 is not a valid phone number.", 400),
            {},
            "failed",
            "21211",
        ),
        (400, _error(21610, "Attempt to send to unsubscribed recipient", 400), {}, "failed", "21610"),
        (401, _error(20003, "Authenticate", 401), {}, "paused", "20003"),
        (429, _error(20429, "Too Many Requests", 429), {"Retry-After": "30"}, "pending", "20429"),
        (500, _error(20500, "Internal Server Error", 500), {}, "pending", "20500"),
    ],
)
def test_twilios_answers(connected, sub, mocked, status, body, headers, outcome, error):
    mocked.post(MESSAGES_URL, status=status, json=body, headers=headers)
    _emit(sub, "subscription.skipped", {"skipped_date": "2025-03-14"})

    delivery = _deliver()

    assert delivery.status == outcome
    assert f"Twilio error {error}" in delivery.last_error
    if status == 401:
        connected.refresh_from_db()
        assert connected.state == Integration.State.NEEDS_ATTENTION
    if status == 429:
        wait = delivery.next_attempt_at - dt.datetime.now(dt.UTC)
        assert dt.timedelta(seconds=29) <= wait <= dt.timedelta(seconds=31)


@time_machine.travel(NIGHT, tick=False)
def test_quiet_hours_hold_a_text_until_11_shop_local(connected, sub, mocked):
    _emit(sub, "subscription.upcoming_order")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING and delivery.attempt_count == 0
    assert delivery.next_attempt_at == dt.datetime(2025, 3, 13, 11, 0, tzinfo=NEW_YORK)
    assert len(mocked.calls) == 0


@time_machine.travel(AFTERNOON, tick=False)
def test_a_customer_without_a_phone_is_not_texted(connected, sub, mocked):
    sub.customer.phone = ""
    sub.customer.save(update_fields=["phone"])
    _emit(sub, "subscription.skipped")
    delivery = _deliver()
    assert delivery.status == Delivery.Status.FAILED and "no usable phone number" in delivery.last_error
    assert len(mocked.calls) == 0


@time_machine.travel(AFTERNOON, tick=False)
def test_an_unsubscribed_customer_gets_only_the_failed_payment_text(connected, sub, mocked):
    Unsubscribe.objects.create(shop=sub.shop, email="rosa@example.com")
    mocked.post(MESSAGES_URL, status=201, json=MESSAGE_201)
    _emit(sub, "subscription.skipped")
    assert _deliver().status == Delivery.Status.FAILED
    _emit(sub, "subscription.transaction_failed")
    assert _deliver().status == Delivery.Status.SUCCEEDED
    assert len(mocked.calls) == 1


# ---------------------------------------------------------------- signature


def test_the_signature_matches_twilios_documented_example():
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert twilio.signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio.signature_valid("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
    assert not twilio.signature_valid(
        "12345", url, {**params, "Digits": "1235"}, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    )


def test_the_integrations_card_shows_the_replies_webhook_to_paste_in_twilio(client, connected):
    user = f.StaffMembershipFactory(shop=connected.shop, user__username="owner").user
    client.force_login(user)
    page = client.get("/admin/integrations/integration/")
    assert page.status_code == 200
    assert twilio.inbound_url(connected) in page.content.decode()
