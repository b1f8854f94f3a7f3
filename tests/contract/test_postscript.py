"""Postscript wire format (reference/partner-contracts.md, Postscript): the connect check (webhook
token) and the subscription to SMS replies, the 6 triggers as custom events, how each kind of
answer is handled, and quiet hours."""

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
import time_machine
from django.db import transaction
from django.utils import timezone

from integrations.adapters import postscript
from integrations.models import Integration
from integrations.services import integration_connect
from portal.links import subscription_link_target
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_customer_event, emit_subscription_event
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery

API = "https://api.postscript.io/api/v2"
EVENTS_URL = f"{API}/events"
WEBHOOKS_URL = f"{API}/webhooks"
TOKEN_URL = f"{API}/webhooks/token"
KEY = "sk_live_0123456789abcdef"
SITE = "https://subs.example.com"
NEW_YORK = ZoneInfo("America/New_York")

TRIGGERS = {
    "subscription.created": "subscription_created",
    "subscription.upcoming_order": "upcoming_order",
    "subscription.transaction_failed": "payment_method_failed",
    "subscription.skipped": "order_skipped",
    "subscription.payment_method_updated": "payment_method_updated",
    "customer.deactivated": "customer_deactivated",
}
ACCEPTED = {"event_ids": ["evt_1"]}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(first_name="Rosa", email="rosa@example.com", phone="555.010.4477")
    return f.SubscriptionFactory(customer=customer)  # shops are in America/New_York


def _connect(shop, mocked, key=KEY, config=None):
    mocked.get(TOKEN_URL, json={"token": "ps_signature_token"})
    mocked.post(
        WEBHOOKS_URL, status=201, json={"id": 991, "callback_url": "...", "event": "shop.incoming_message"}
    )
    return integration_connect(
        shop=shop, partner_key="postscript", credentials={"private_key": key}, config=config
    )


@pytest.fixture
def connected(sub, mocked):
    integration = _connect(sub.shop, mocked)
    mocked.calls.reset()
    mocked.reset()
    return integration


def _emit(sub, event_type, extra=None):
    with transaction.atomic():
        if event_type == "customer.deactivated":
            emit_customer_event(event_type, sub.customer, actor=Actor.admin("ops"))
        else:
            emit_subscription_event(event_type, sub, actor=Actor.admin("ops"), extra=extra)


def _deliver() -> Delivery:
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="integration", status=Delivery.Status.PENDING)
    engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _json(call) -> dict:
    return json.loads(call.request.body)


# ---------------------------------------------------------------- connect


def test_connect_fetches_the_signature_token_and_subscribes_to_replies(sub, mocked):
    integration = _connect(sub.shop, mocked)

    token_call, subscribe_call = mocked.calls
    assert token_call.request.method == "GET"
    assert token_call.request.url == TOKEN_URL
    assert token_call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert subscribe_call.request.method == "POST"
    assert subscribe_call.request.url == WEBHOOKS_URL
    assert subscribe_call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert subscribe_call.request.headers["Content-Type"] == "application/json"
    inbound = integration.config["inbound_token"]
    assert _json(subscribe_call) == {
        "callback_url": f"{SITE}/hooks/postscript/{inbound}/",
        "event": "shop.incoming_message",
    }
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED
    assert integration.credentials == {"private_key": KEY, "webhook_token": "ps_signature_token"}
    assert integration.config["delay_days"] == 7
    assert integration.config["quiet_hours"] is False
    assert integration.config["webhook_id"] == "991"
    assert len(inbound) >= 20
    assert set(integration.events) == set(TRIGGERS)


def test_reconnecting_with_a_new_key_keeps_the_reply_subscription(connected, sub, mocked):
    mocked.get(TOKEN_URL, json={"token": "ps_signature_token_2"})

    integration = integration_connect(
        shop=sub.shop, partner_key="postscript", credentials={"private_key": "sk_live_new"}
    )

    assert [c.request.url for c in mocked.calls] == [TOKEN_URL]
    assert integration.config["inbound_token"] == connected.config["inbound_token"]
    assert integration.credentials["webhook_token"] == "ps_signature_token_2"


def test_a_refused_key_names_the_key_and_saves_nothing(sub, mocked):
    mocked.get(
        TOKEN_URL, status=401, json={"error_code": 401, "error_message": "Invalid key", "success": False}
    )

    with pytest.raises(DomainError) as refused:
        integration_connect(shop=sub.shop, partner_key="postscript", credentials={"private_key": KEY})

    assert refused.value.field == "private_key"
    assert KEY not in refused.value.message
    assert not Integration.objects.filter(partner="postscript").exists()


def test_a_key_that_is_not_a_private_key_is_refused_without_calling(sub, mocked):
    with pytest.raises(DomainError) as refused:
        integration_connect(shop=sub.shop, partner_key="postscript", credentials={"private_key": "pk_public"})
    assert refused.value.field == "private_key"
    assert len(mocked.calls) == 0


def test_a_refused_reply_subscription_fails_the_connect(sub, mocked):
    mocked.get(TOKEN_URL, json={"token": "t"})
    mocked.post(
        WEBHOOKS_URL, status=422, json={"error_code": 422, "error_message": "bad url", "success": False}
    )

    with pytest.raises(DomainError, match="bad url"):
        integration_connect(shop=sub.shop, partner_key="postscript", credentials={"private_key": KEY})
    assert not Integration.objects.filter(partner="postscript").exists()


# ---------------------------------------------------------------- events


def test_the_six_triggers_have_valid_types():
    assert postscript.EVENTS == TRIGGERS
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in TRIGGERS.values())


@pytest.mark.parametrize("event_type", sorted(TRIGGERS))
def test_each_trigger_is_one_custom_event(connected, sub, mocked, event_type):
    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    _emit(sub, event_type)

    delivery = _deliver()

    assert delivery.status == Delivery.Status.SUCCEEDED
    (call,) = mocked.calls
    assert call.request.method == "POST"
    assert call.request.url == EVENTS_URL
    assert call.request.headers["Authorization"] == f"Bearer {KEY}"
    assert call.request.headers["Content-Type"] == "application/json"
    body = _json(call)
    occurred = delivery.event.occurred_at.astimezone(dt.UTC)
    assert body["type"] == TRIGGERS[event_type]
    assert body["phone"] == "+15550104477"
    assert "email" not in body
    assert body["occurred_at"] == occurred.strftime("%Y-%m-%d %H:%M:%S.%f")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", body["occurred_at"])
    assert body["external_id"] == str(delivery.pk)
    properties = body["properties"]
    assert all(isinstance(v, str | int | float | bool) for v in properties.values())
    assert properties["first_name"] == "Rosa"
    if event_type == "customer.deactivated":
        assert properties["account_page_link"] == f"{SITE}/account/"
    else:
        assert properties["account_page_link"].startswith(f"{SITE}/account/link/")
        assert subscription_link_target(properties["account_page_link"]) == (sub.customer_id, sub.pk)
        assert properties["subscription_id"] == str(sub.pk)
        assert properties["new_delivery_date"] == sub.next_billing_date.strftime(sub.shop.date_format)
        assert properties["frequency_interval"] == sub.plan.interval_count


def test_a_customer_without_phone_is_known_by_email(connected, sub, mocked):
    sub.customer.phone = ""
    sub.customer.save()
    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    _emit(sub, "subscription.created")

    _deliver()

    body = _json(mocked.calls[0])
    assert body["email"] == "rosa@example.com"
    assert "phone" not in body


# ---------------------------------------------------------------- answers


def test_401_holds_the_delivery_until_the_merchant_reconnects(
    connected, sub, mocked, django_capture_on_commit_callbacks
):
    mocked.post(
        EVENTS_URL, status=401, json={"error_code": 401, "error_message": "Unauthorized", "success": False}
    )
    _emit(sub, "subscription.skipped")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PAUSED
    connected.refresh_from_db()
    assert connected.state == Integration.State.NEEDS_ATTENTION
    _emit(sub, "subscription.created")
    engine.relay(enqueue=False)
    second = Delivery.objects.exclude(pk=delivery.pk).get()
    assert engine.deliver(second.pk) == Delivery.Status.PAUSED
    assert len(mocked.calls) == 1

    mocked.reset()
    mocked.get(TOKEN_URL, json={"token": "ps_signature_token"})
    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(
            shop=sub.shop, partner_key="postscript", credentials={"private_key": "sk_live_new"}
        )

    connected.refresh_from_db()
    assert connected.state == Integration.State.CONNECTED
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    sends = [c for c in mocked.calls if c.request.url == EVENTS_URL]
    assert sorted(_json(c)["type"] for c in sends) == ["order_skipped", "subscription_created"]
    assert {c.request.headers["Authorization"] for c in sends} == {"Bearer sk_live_new"}


def test_429_is_retried_after_retry_after(connected, sub, mocked):
    mocked.post(
        EVENTS_URL, status=429, headers={"Retry-After": "20"}, json={"error_code": 429, "success": False}
    )
    _emit(sub, "subscription.created")
    before = timezone.now()

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 429
    assert dt.timedelta(seconds=20) <= delivery.next_attempt_at - before < dt.timedelta(seconds=23)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(connected, sub, mocked, status):
    mocked.post(EVENTS_URL, status=status, body="upstream trouble")
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == status
    assert Integration.objects.get(pk=connected.pk).state == Integration.State.CONNECTED


def test_a_timeout_is_retried(connected, sub, mocked):
    mocked.post(EVENTS_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code is None
    assert "ReadTimeout" in delivery.last_error


def test_a_refused_event_fails(connected, sub, mocked):
    mocked.post(
        EVENTS_URL, status=400, json={"error_code": 400, "error_message": "bad type", "success": False}
    )
    _emit(sub, "subscription.created")

    assert _deliver().status == Delivery.Status.FAILED


# ---------------------------------------------------------------- quiet hours


def _quiet(connected, value=True):
    Integration.objects.filter(pk=connected.pk).update(config={**connected.config, "quiet_hours": value})


@pytest.mark.parametrize(
    ("local_now", "opens"),
    [
        (dt.datetime(2025, 3, 4, 22, 30), dt.datetime(2025, 3, 5, 11, 0)),
        (dt.datetime(2025, 3, 4, 21, 0), dt.datetime(2025, 3, 5, 11, 0)),
        (dt.datetime(2025, 3, 5, 6, 15), dt.datetime(2025, 3, 5, 11, 0)),
        (dt.datetime(2025, 3, 5, 10, 59, 59), dt.datetime(2025, 3, 5, 11, 0)),
        # The night the clocks go forward in New York: 11:00 is still 11:00 local.
        (dt.datetime(2025, 3, 8, 23, 0), dt.datetime(2025, 3, 9, 11, 0)),
    ],
)
def test_quiet_hours_hold_texts_until_eleven_shop_local(connected, sub, mocked, local_now, opens):
    _quiet(connected)
    with time_machine.travel(local_now.replace(tzinfo=NEW_YORK), tick=False):
        _emit(sub, "subscription.created")
        delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.next_attempt_at == opens.replace(tzinfo=NEW_YORK)
    assert delivery.last_error.startswith("deferred")
    assert delivery.attempt_count == 0  # waiting for the day does not use up a retry
    assert not delivery.attempts.exists()
    assert len(mocked.calls) == 0
    connected.refresh_from_db()
    assert connected.last_error == ""

    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    with time_machine.travel(opens.replace(tzinfo=NEW_YORK), tick=False):
        assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    assert len(mocked.calls) == 1


@pytest.mark.parametrize("local_now", [dt.datetime(2025, 3, 4, 11, 0), dt.datetime(2025, 3, 4, 20, 59)])
def test_quiet_hours_let_texts_out_in_the_day(connected, sub, mocked, local_now):
    _quiet(connected)
    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    with time_machine.travel(local_now.replace(tzinfo=NEW_YORK), tick=False):
        _emit(sub, "subscription.created")
        assert _deliver().status == Delivery.Status.SUCCEEDED


@pytest.mark.parametrize("value", [False, "false", "", "off"])
def test_without_quiet_hours_texts_go_at_night(connected, sub, mocked, value):
    _quiet(connected, value)
    mocked.post(EVENTS_URL, status=202, json=ACCEPTED)
    with time_machine.travel(dt.datetime(2025, 3, 4, 3, 0, tzinfo=NEW_YORK), tick=False):
        _emit(sub, "subscription.created")
        assert _deliver().status == Delivery.Status.SUCCEEDED


def test_quiet_hours_saved_as_form_text_count(connected, sub, mocked):
    _quiet(connected, "true")
    with time_machine.travel(dt.datetime(2025, 3, 4, 3, 0, tzinfo=NEW_YORK), tick=False):
        _emit(sub, "subscription.created")
        assert _deliver().status == Delivery.Status.PENDING
    assert len(mocked.calls) == 0
