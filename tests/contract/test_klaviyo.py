"""Klaviyo on recorded HTTP (`responses`): the exact event and profile-import calls, every metric
name, the connect check, and Klaviyo's documented answers (401, 429 + Retry-After, 5xx, timeouts)
as the delivery engine sees them. No test reaches the internet."""

import datetime as dt
import json

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from integrations.adapters import klaviyo
from integrations.models import Integration
from integrations.services import integration_connect
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery, OutboxEvent
from webhooks.registry import sample_envelope

EVENTS = "https://a.klaviyo.com/api/events"
PROFILES = "https://a.klaviyo.com/api/profile-import"
PUBLIC = "AbC123"
PRIVATE = "pk_0123456789abcdef0123456789abcdef01"
GOOD = {"public_key": PUBLIC, "private_key": PRIVATE}
ACTOR = Actor.admin("ops")

# DESIGN.md's event table, Klaviyo column.
EXPECTED_METRICS = {
    "subscription.created": "Smartrr: Subscription created",
    "subscription.upcoming_order": "Smartrr: Subscription upcoming order",
    "subscription.send_now": "Smartrr: Subscription send now",
    "subscription.transaction_succeeded": "Smartrr: Transaction successful",
    "subscription.transaction_failed": "Smartrr: Transaction attempt failed",
    "subscription.skipped": "Smartrr: Subscription skipped",
    "subscription.unskipped": "Smartrr: Subscription unskipped",
    "subscription.gifted": "Smartrr: Subscription gifted",
    "subscription.next_order_date_changed": "Smartrr: Subscription next order date change",
    "subscription.product_unavailable": "Smartrr: Subscription product unavailable",
    "subscription.canceled": "Smartrr: Subscription canceled",
    "subscription.paused": "Smartrr: Subscription paused",
    "subscription.activated": "Smartrr: Subscription activated (unpaused)",
    "subscription.auto_resume_upcoming": "Smartrr: Subscription auto-resume",
    "loyalty.points_earned": "Smartrr: Loyalty points earned",
    "loyalty.bonus_points_earned": "Smartrr: Bonus points earned",
    "loyalty.referral_succeeded": "Smartrr: Successful referral",
    "loyalty.points_redeemed": "Smartrr: Loyalty points redeemed",
    "loyalty.referral_code_generated": "Smartrr: Referral code generated",
}


@pytest.fixture
def recorded(db, settings):
    settings.KLAVIYO_REVISION = "2025-01-15"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(phone="+1 (555) 555-0123", external_id="gid://shopify/Customer/7001")
    return f.SubscriptionFactory(customer=customer)


def _connected(shop, events=None) -> Integration:
    return Integration.objects.create(
        shop=shop,
        partner="klaviyo",
        state=Integration.State.CONNECTED,
        credentials=dict(GOOD),
        events=list(events or klaviyo.METRICS),
        connected_at=timezone.now(),
    )


def _skip_and_relay(sub) -> Delivery:
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    return Delivery.objects.get(destination_kind="integration")


def _body(call) -> dict:
    return json.loads(call.request.body)


def _headers(call) -> dict:
    return {k.lower(): v for k, v in call.request.headers.items()}


def test_metric_names_are_the_design_table(db):
    assert klaviyo.METRICS == EXPECTED_METRICS
    from integrations.partners import partner

    assert partner("klaviyo").events == EXPECTED_METRICS


def test_event_and_profile_import_calls_are_exactly_the_contract(recorded, sub):
    integration = _connected(sub.shop)
    recorded.post(EVENTS, status=202, body=b"")
    recorded.post(PROFILES, status=200, json={"data": {"type": "profile", "id": "01HPROFILE"}})
    delivery = _skip_and_relay(sub)

    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED

    assert [(c.request.method, c.request.url) for c in recorded.calls] == [
        ("POST", EVENTS),
        ("POST", PROFILES),
    ]
    for call in recorded.calls:
        headers = _headers(call)
        assert headers["authorization"] == f"Klaviyo-API-Key {PRIVATE}"
        assert headers["revision"] == "2025-01-15"
        assert headers["accept"] == "application/vnd.api+json"
        assert headers["content-type"] == "application/vnd.api+json"

    event = OutboxEvent.objects.get(type="subscription.skipped")
    data = event.payload["data"]
    customer = sub.customer
    next_date = data["subscription"]["next_billing_date"]
    profile_properties = {
        "smartrr_subscription_status": "ACTIVE",
        "smartrr_active_subscription_count": 1,
        # The skipped date is stepped over: the order really placed next.
        "smartrr_next_order_date": _effective(sub),
        "smartrr_subscriber_since": customer.subscriber_since.isoformat()
        if customer.subscriber_since
        else "",
        "smartrr_loyalty_points_balance": 0,
        "smartrr_referral_code": "",
        "smartrr_account_page_link": data["account_page_link"],
    }
    identity = {
        "email": customer.email,
        "phone_number": "+15555550123",
        "external_id": "gid://shopify/Customer/7001",
    }
    assert _body(recorded.calls[0]) == {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {
                    "first_name": customer.first_name,
                    "account_page_link": data["account_page_link"],
                    "next_order_date": data["next_order_date"],
                    "new_delivery_date": data["new_delivery_date"],
                    "frequency_unit": data["frequency_unit"],
                    "frequency_interval": data["frequency_interval"],
                    "items": data["subscription"]["items"],
                    "subscription": data["subscription"],
                    "previous": data["previous"],
                    **{k: v for k, v in data.items() if k not in _COMMON},
                },
                "time": event.occurred_at.isoformat(),
                "unique_id": str(delivery.pk),
                "metric": {
                    "data": {"type": "metric", "attributes": {"name": "Smartrr: Subscription skipped"}}
                },
                "profile": {
                    "data": {"type": "profile", "attributes": {**identity, "properties": profile_properties}}
                },
            },
        }
    }
    assert data["subscription"]["items"][0]["sku"] == sub.lines.first().variant.sku
    assert next_date  # the nested subscription keeps its own (ISO) next billing date

    assert _body(recorded.calls[1]) == {
        "data": {
            "type": "profile",
            "attributes": {
                **identity,
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "properties": profile_properties,
            },
        }
    }
    integration.refresh_from_db()
    assert integration.last_success_at is not None


_COMMON = {
    "customer",
    "subscription",
    "previous",
    "first_name",
    "account_page_link",
    "next_order_date",
    "new_delivery_date",
    "frequency_unit",
    "frequency_interval",
}


def _effective(sub) -> str:
    from subscriptions.selectors import effective_next_order_date

    sub.refresh_from_db()
    return effective_next_order_date(sub).isoformat()


def test_a_transaction_carries_its_amount_as_the_value(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    event = OutboxEvent.objects.create(
        shop_id=sub.shop_id,
        type="subscription.transaction_succeeded",
        actor="system",
        payload=sample_envelope("subscription.transaction_succeeded", sub.shop_id),
        occurred_at=timezone.now(),
    )
    engine.relay(enqueue=False)
    assert engine.deliver(Delivery.objects.get(event=event).pk) == Delivery.Status.SUCCEEDED
    assert _body(recorded.calls[0])["data"]["attributes"]["value"] == 29.0


def test_profile_properties_count_every_subscription_of_the_customer(recorded, sub):
    f.SubscriptionFactory(customer=sub.customer)
    paused = f.SubscriptionFactory(customer=sub.customer)
    services.subscription_pause(subscription=paused, actor=ACTOR)
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    engine.relay(enqueue=False)  # the pause
    delivery = Delivery.objects.get(destination_kind="integration")
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    properties = _body(recorded.calls[1])["data"]["attributes"]["properties"]
    assert properties["smartrr_subscription_status"] == "ACTIVE"
    assert properties["smartrr_active_subscription_count"] == 2


def test_loyalty_facts_come_from_the_registry_hook(recorded, sub, monkeypatch):
    from webhooks import registry

    monkeypatch.setattr(registry, "_CUSTOMER_FACTS", [])
    registry.register_customer_facts(
        lambda shop_id, customer_id: {"loyalty_points_balance": 350, "referral_code": "JANE-5K2Q"}
    )
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    delivery = _skip_and_relay(sub)
    engine.deliver(delivery.pk)
    properties = _body(recorded.calls[1])["data"]["attributes"]["properties"]
    assert properties["smartrr_loyalty_points_balance"] == 350
    assert properties["smartrr_referral_code"] == "JANE-5K2Q"


def test_a_phone_that_is_not_e164_like_is_left_out(recorded):
    customer = f.CustomerFactory(phone="555 0123")
    sub = f.SubscriptionFactory(customer=customer)
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    engine.deliver(_skip_and_relay(sub).pk)
    assert (
        "phone_number" not in _body(recorded.calls[0])["data"]["attributes"]["profile"]["data"]["attributes"]
    )


def test_every_metric_goes_out_under_its_name(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    for event_type in EXPECTED_METRICS:
        OutboxEvent.objects.create(
            shop_id=sub.shop_id,
            type=event_type,
            actor="system",
            payload=sample_envelope(event_type, sub.shop_id),
            occurred_at=timezone.now(),
        )
    engine.relay(enqueue=False)
    deliveries = list(Delivery.objects.filter(destination_kind="integration"))
    assert len(deliveries) == 19
    for delivery in deliveries:
        assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED, delivery.event_type
    sent = [
        _body(c)["data"]["attributes"]["metric"]["data"]["attributes"]["name"]
        for c in recorded.calls
        if c.request.url == EVENTS
    ]
    assert sorted(sent) == sorted(EXPECTED_METRICS.values())


def test_only_the_events_the_merchant_chose_are_sent(recorded, sub):
    _connected(sub.shop, events=["subscription.paused"])
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    assert not Delivery.objects.filter(destination_kind="integration").exists()


# ---------------------------------------------------------------- connect


def test_connect_checks_the_private_key_with_a_profile_import(recorded, sub, settings):
    settings.KLAVIYO_TEST_PROFILE_EMAIL = "flows@example.com"
    recorded.post(PROFILES, status=201, json={"data": {"type": "profile", "id": "01HTEST"}})
    integration = integration_connect(shop=sub.shop, partner_key="klaviyo", credentials=GOOD)

    assert integration.state == Integration.State.CONNECTED
    assert integration.events == list(EXPECTED_METRICS)
    assert Integration.objects.get().credentials == GOOD  # stored (encrypted) only after the check
    (call,) = recorded.calls
    assert (call.request.method, call.request.url) == ("POST", PROFILES)
    assert _headers(call)["authorization"] == f"Klaviyo-API-Key {PRIVATE}"
    attributes = _body(call)["data"]["attributes"]
    assert attributes["email"] == "flows@example.com"
    assert attributes["external_id"] == klaviyo.TEST_PROFILE_EXTERNAL_ID


@pytest.mark.parametrize(
    ("credentials", "field"),
    [
        ({"public_key": "AbC12", "private_key": PRIVATE}, "public_key"),
        ({"public_key": "AbC12!", "private_key": PRIVATE}, "public_key"),
        ({"public_key": PUBLIC, "private_key": "0123456789abcdef"}, "private_key"),
    ],
)
def test_keys_of_the_wrong_shape_are_refused_without_a_call(recorded, sub, credentials, field):
    with pytest.raises(DomainError) as refused:
        integration_connect(shop=sub.shop, partner_key="klaviyo", credentials=credentials)
    assert refused.value.field == field
    assert credentials[field] not in refused.value.message
    assert len(recorded.calls) == 0
    assert not Integration.objects.exists()


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_private_key_is_reported_on_its_field(recorded, sub, status):
    recorded.post(
        PROFILES,
        status=status,
        json={"errors": [{"status": status, "code": "not_authenticated", "detail": f"bad key {PRIVATE}"}]},
    )
    with pytest.raises(DomainError) as refused:
        integration_connect(shop=sub.shop, partner_key="klaviyo", credentials=GOOD)
    assert refused.value.field == "private_key"
    assert PRIVATE not in refused.value.message
    assert not Integration.objects.exists()


def test_connecting_fires_every_metric_once_for_the_test_profile(
    recorded, sub, settings, django_capture_on_commit_callbacks
):
    settings.KLAVIYO_TEST_PROFILE_EMAIL = "flows@example.com"
    recorded.post(PROFILES, status=200)
    recorded.post(EVENTS, status=202)
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(shop=sub.shop, partner_key="klaviyo", credentials=GOOD)

    events = [_body(c)["data"]["attributes"] for c in recorded.calls if c.request.url == EVENTS]
    assert sorted(e["metric"]["data"]["attributes"]["name"] for e in events) == sorted(
        EXPECTED_METRICS.values()
    )
    profiles = {e["profile"]["data"]["attributes"]["email"] for e in events}
    assert profiles == {"flows@example.com"}  # never a real customer of the shop
    assert all(e["properties"]["first_name"] == "Test" for e in events)
    assert len({e["unique_id"] for e in events}) == 19
    integration = Integration.objects.get()
    assert integration.last_success_at is not None and integration.last_error == ""


def test_test_metrics_that_fail_are_recorded_on_the_integration(
    recorded, sub, django_capture_on_commit_callbacks
):
    recorded.post(PROFILES, status=200)
    recorded.post(EVENTS, status=500, body=b"oops")
    recorded.post(EVENTS, status=202)
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(shop=sub.shop, partner_key="klaviyo", credentials=GOOD)
    integration = Integration.objects.get()
    assert integration.state == Integration.State.CONNECTED
    assert integration.last_error.startswith("Test metrics: 1 of 19 failed")
    assert integration.last_error_at is not None


# ---------------------------------------------------------------- Klaviyo's answers


def test_401_holds_the_delivery_until_a_good_key_is_connected(
    recorded, sub, django_capture_on_commit_callbacks
):
    integration = _connected(sub.shop)
    recorded.post(EVENTS, status=401, json={"errors": [{"status": 401, "detail": "Incorrect credentials."}]})
    delivery = _skip_and_relay(sub)

    assert engine.deliver(delivery.pk) == Delivery.Status.PAUSED
    integration.refresh_from_db()
    assert integration.state == Integration.State.NEEDS_ATTENTION
    assert integration.last_error and PRIVATE not in integration.last_error

    # Another event while it needs attention waits too, without calling Klaviyo.
    services.subscription_unskip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    second = Delivery.objects.filter(destination_kind="integration").exclude(pk=delivery.pk).get()
    calls_before = len(recorded.calls)
    assert engine.deliver(second.pk) == Delivery.Status.PAUSED
    assert len(recorded.calls) == calls_before

    recorded.replace(responses.POST, EVENTS, status=202)
    recorded.post(PROFILES, status=200)
    new_key = "pk_fedcba9876543210fedcba9876543210fe"
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(
            shop=sub.shop, partner_key="klaviyo", credentials={**GOOD, "private_key": new_key}
        )

    for held in (delivery, second):
        held.refresh_from_db()
        assert held.status == Delivery.Status.SUCCEEDED
    resent = [
        c
        for c in recorded.calls
        if c.request.url == EVENTS and _body(c)["data"]["attributes"]["unique_id"] == str(delivery.pk)
    ]
    assert len(resent) == 2  # refused once, then sent with the new key under the same unique id
    assert _headers(resent[-1])["authorization"] == f"Klaviyo-API-Key {new_key}"
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED


def test_429_is_retried_when_klaviyo_says(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=429, headers={"Retry-After": "30"}, json={"errors": [{"status": 429}]})
    delivery = _skip_and_relay(sub)
    with time_machine.travel(timezone.now(), tick=False):
        assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
        delivery.refresh_from_db()
        assert delivery.next_attempt_at - timezone.now() == dt.timedelta(seconds=30)
    assert delivery.last_status_code == 429
    assert Integration.objects.get().state == Integration.State.CONNECTED


def test_5xx_is_retried_on_the_schedule(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=503, body=b"unavailable")
    delivery = _skip_and_relay(sub)
    with time_machine.travel(timezone.now(), tick=False):
        assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
        delivery.refresh_from_db()
        assert dt.timedelta(seconds=4) <= delivery.next_attempt_at - timezone.now() <= dt.timedelta(seconds=6)
    assert Integration.objects.get().last_error


def test_a_timeout_is_retried(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, body=requests.Timeout("read timed out"))
    delivery = _skip_and_relay(sub)
    assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.last_status_code is None
    assert "Timeout" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_a_failed_profile_update_retries_the_delivery(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=202)
    recorded.post(PROFILES, status=503)
    delivery = _skip_and_relay(sub)
    assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
    delivery.refresh_from_db()
    assert delivery.last_status_code == 503
    assert "profile-import" in delivery.last_error


def test_a_payload_klaviyo_refuses_is_not_retried(recorded, sub):
    _connected(sub.shop)
    recorded.post(EVENTS, status=400, json={"errors": [{"status": 400, "detail": "Invalid input."}]})
    delivery = _skip_and_relay(sub)
    assert engine.deliver(delivery.pk) == Delivery.Status.FAILED
