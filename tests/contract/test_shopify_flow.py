"""Shopify Flow wire format (reference/partner-contracts.md, Shopify Flow): the connect check and the
12 triggers as Admin GraphQL calls, and how each kind of answer is handled."""

import datetime as dt
import json

import pytest
import requests
import responses
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration
from integrations.services import integration_connect
from portal.links import subscription_link_target
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_subscription_event
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery

DOMAIN = "demo-shop.myshopify.com"
TOKEN = "shpat_0123456789abcdef"
URL = f"https://{DOMAIN}/admin/api/2025-01/graphql.json"
MUTATION = (
    "mutation flowTriggerReceive($handle: String, $payload: JSON) {"
    " flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } } }"
)
ACCEPTED = {"data": {"flowTriggerReceive": {"userErrors": []}}}
COMMON = {
    "customer_id",
    "subscription_id",
    "email",
    "first_name",
    "subscription_status",
    "next_order_date",
    "account_page_link",
}
# event type -> (handle, the trigger's own fields beyond the common ones, extra data the service emits)
TRIGGERS = {
    "subscription.created": ("subscription-created", set(), {}),
    "subscription.upcoming_order": (
        "subscription-upcoming-order",
        {"days_until_order", "order_date"},
        {"days_until_order": 3, "order_date": "2025-03-04"},
    ),
    "subscription.send_now": ("subscription-send-now", set(), {}),
    "subscription.transaction_succeeded": (
        "subscription-payment-succeeded",
        {"order_id", "order_total", "currency"},
        {"order": {"id": 55, "total": "24.00", "currency": "USD"}},
    ),
    "subscription.transaction_failed": (
        "subscription-payment-failed",
        {"order_id", "failure_reason", "retry_date"},
        {"order": {"id": 56}, "failure_reason": "Card declined", "retry_date": "2025-03-07"},
    ),
    "subscription.skipped": ("subscription-skipped", {"skipped_date"}, {"skipped_date": "2025-03-04"}),
    "subscription.unskipped": (
        "subscription-unskipped",
        {"unskipped_date"},
        {"unskipped_date": "2025-03-04"},
    ),
    "subscription.gifted": (
        "subscription-gifted",
        {"gift_order_date", "gift_recipient_first_name", "gift_recipient_email"},
        {
            "gift": {
                "billing_date": "2025-03-04",
                "recipient_first_name": "Ana",
                "recipient_email": "ana@example.com",
            }
        },
    ),
    "subscription.next_order_date_changed": (
        "subscription-next-date-changed",
        {"previous_next_order_date"},
        {},
    ),
    "subscription.canceled": (
        "subscription-canceled",
        {"cancel_reason"},
        {"cancel_reason": "Too much coffee"},
    ),
    "subscription.paused": ("subscription-paused", {"auto_resume_date"}, {"auto_resume_date": "2025-05-01"}),
    "subscription.activated": ("subscription-activated", set(), {}),
}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(external_id="gid://shopify/Customer/7001", first_name="Rosa")
    return f.SubscriptionFactory(customer=customer)


def _connect(shop, mocked, token=TOKEN):
    mocked.post(URL, json={"data": {"shop": {"name": "Demo Shop"}}})
    return integration_connect(
        shop=shop, partner_key="shopify_flow", credentials={"shop_domain": DOMAIN, "access_token": token}
    )


@pytest.fixture
def flow(sub, mocked):
    integration = _connect(sub.shop, mocked)
    mocked.calls.reset()
    mocked.reset()
    return integration


def _emit(sub, event_type, extra=None, previous=None):
    with transaction.atomic():
        emit_subscription_event(event_type, sub, actor=Actor.admin("ops"), extra=extra, previous=previous)


def _deliver() -> Delivery:
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="integration")
    engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _sent(call) -> dict:
    return json.loads(call.request.body)


# ---------------------------------------------------------------- connect


def test_connect_asks_for_the_shop_name_with_the_token(sub, mocked):
    integration = _connect(sub.shop, mocked)

    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == URL
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body) == {"query": "{ shop { name } }"}
    assert integration.state == Integration.State.CONNECTED
    assert integration.config["shop_domain"] == DOMAIN
    assert integration.config["shop_name"] == "Demo Shop"
    assert set(integration.events) == set(TRIGGERS)


def test_connect_with_a_refused_token_names_the_token(sub, mocked):
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=sub.shop,
            partner_key="shopify_flow",
            credentials={"shop_domain": DOMAIN, "access_token": "bad"},
        )
    assert refused.value.field == "access_token"
    assert "bad" not in refused.value.message
    assert not Integration.objects.exists()


@pytest.mark.parametrize("domain", ["demo-shop.example.com", "demo shop.myshopify.com", "myshopify.com"])
def test_connect_refuses_a_domain_of_the_wrong_shape_without_calling(sub, mocked, domain):
    with pytest.raises(DomainError) as refused:
        integration_connect(
            shop=sub.shop,
            partner_key="shopify_flow",
            credentials={"shop_domain": domain, "access_token": TOKEN},
        )
    assert refused.value.field == "shop_domain"
    assert len(mocked.calls) == 0


def test_connect_accepts_the_domain_pasted_as_a_url(sub, mocked):
    mocked.post(URL, json={"data": {"shop": {"name": "Demo Shop"}}})
    integration = integration_connect(
        shop=sub.shop,
        partner_key="shopify_flow",
        credentials={"shop_domain": f"https://{DOMAIN.upper()}/", "access_token": TOKEN},
    )
    assert integration.credentials["shop_domain"] == DOMAIN


# ---------------------------------------------------------------- the 12 triggers


def test_the_twelve_triggers_have_valid_handles():
    handles = [handle for handle, _, _ in TRIGGERS.values()]
    assert len(set(handles)) == 12
    for handle in handles:
        assert len(handle) <= 30 and set(handle) <= set("abcdefghijklmnopqrstuvwxyz-"), handle


@pytest.mark.parametrize("event_type", list(TRIGGERS))
def test_each_trigger_is_one_flowTriggerReceive_call(flow, sub, mocked, event_type):
    handle, own_fields, extra = TRIGGERS[event_type]
    previous = {"next_billing_date": "2025-02-01"} if event_type.endswith("date_changed") else None
    mocked.post(URL, json=ACCEPTED)
    _emit(sub, event_type, extra, previous)

    delivery = _deliver()

    assert delivery.status == Delivery.Status.SUCCEEDED
    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    assert (request.method, request.url) == ("POST", URL)
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    body = _sent(mocked.calls[0])
    assert set(body) == {"query", "variables"}
    assert body["query"] == MUTATION
    assert body["variables"]["handle"] == handle
    payload = body["variables"]["payload"]
    assert set(payload) == COMMON | own_fields
    # Small and flat: no nested objects for Flow to dig through.
    assert all(not isinstance(value, dict | list) for value in payload.values())
    assert payload["customer_id"] == 7001
    assert payload["subscription_id"] == str(sub.pk)
    assert payload["email"] == sub.customer.email
    assert payload["first_name"] == "Rosa"
    assert subscription_link_target(payload["account_page_link"]) == (sub.customer_id, sub.pk)
    if event_type == "subscription.upcoming_order":
        assert payload["days_until_order"] == 3
    if event_type == "subscription.next_order_date_changed":
        assert payload["previous_next_order_date"] == "2025-02-01"


def test_a_real_skip_reaches_flow_with_our_ids_when_shopify_has_none(mocked, db):
    sub = f.SubscriptionFactory(customer__external_id="")
    _connect(sub.shop, mocked)
    mocked.calls.reset()
    mocked.reset()
    mocked.post(URL, json=ACCEPTED)
    services.subscription_skip(subscription=sub, actor=Actor.customer())

    assert _deliver().status == Delivery.Status.SUCCEEDED
    payload = _sent(mocked.calls[0])["variables"]["payload"]
    assert payload["customer_id"] == sub.customer.pk
    assert payload["skipped_date"] == (timezone.localdate() + dt.timedelta(days=14)).isoformat()


def test_only_the_events_the_merchant_chose_go_to_flow(flow, sub, mocked):
    Integration.objects.filter(pk=flow.pk).update(events=["subscription.paused"])
    _emit(sub, "subscription.skipped", {"skipped_date": "2025-03-04"})
    engine.relay(enqueue=False)
    assert not Delivery.objects.filter(destination_kind="integration").exists()


# ---------------------------------------------------------------- answers


def test_user_errors_fail_the_delivery_with_the_message(flow, sub, mocked):
    mocked.post(
        URL,
        json={
            "data": {
                "flowTriggerReceive": {
                    "userErrors": [{"field": ["body"], "message": "Errors validating schema: missing email"}]
                }
            }
        },
    )
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempt_count == 1
    assert "missing email" in delivery.last_error
    assert "missing email" in Integration.objects.get(pk=flow.pk).last_error


def test_a_throttled_answer_is_retried_when_the_budget_refills(flow, sub, mocked):
    mocked.post(
        URL,
        json={
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {
                "cost": {
                    "requestedQueryCost": 502,
                    "actualQueryCost": None,
                    "throttleStatus": {
                        "maximumAvailable": 2000.0,
                        "currentlyAvailable": 2,
                        "restoreRate": 100.0,
                    },
                }
            },
        },
    )
    _emit(sub, "subscription.created")
    before = timezone.now()

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert "THROTTLED" in delivery.last_error
    wait = delivery.next_attempt_at - before
    assert dt.timedelta(seconds=5) <= wait < dt.timedelta(seconds=8)


def test_401_holds_the_delivery_until_the_merchant_reconnects(
    flow, sub, mocked, django_capture_on_commit_callbacks
):
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    _emit(sub, "subscription.paused", {"auto_resume_date": ""})

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PAUSED
    flow.refresh_from_db()
    assert flow.state == Integration.State.NEEDS_ATTENTION
    # Nothing else goes out while the token is refused.
    _emit(sub, "subscription.activated")
    engine.relay(enqueue=False)
    second = Delivery.objects.exclude(pk=delivery.pk).get()
    assert engine.deliver(second.pk) == Delivery.Status.PAUSED
    assert len(mocked.calls) == 1

    mocked.reset()
    mocked.post(URL, json={"data": {"shop": {"name": "Demo Shop"}}})
    mocked.post(URL, json=ACCEPTED)
    mocked.post(URL, json=ACCEPTED)
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(
            shop=sub.shop,
            partner_key="shopify_flow",
            credentials={"shop_domain": DOMAIN, "access_token": "shpat_new"},
        )

    flow.refresh_from_db()
    assert flow.state == Integration.State.CONNECTED
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    triggers = [call for call in mocked.calls[1:] if "flowTriggerReceive" in call.request.body.decode()]
    assert len(triggers) == 2
    assert {call.request.headers["X-Shopify-Access-Token"] for call in triggers} == {"shpat_new"}


def test_429_is_retried_after_retry_after(flow, sub, mocked):
    mocked.post(URL, status=429, headers={"Retry-After": "30"}, json={"errors": "Throttled"})
    _emit(sub, "subscription.created")
    before = timezone.now()

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 429
    assert dt.timedelta(seconds=30) <= delivery.next_attempt_at - before < dt.timedelta(seconds=33)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(flow, sub, mocked, status):
    mocked.post(URL, status=status, body="upstream trouble")
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == status
    assert delivery.next_attempt_at > timezone.now()
    assert Integration.objects.get(pk=flow.pk).state == Integration.State.CONNECTED


def test_a_timeout_is_retried(flow, sub, mocked):
    mocked.post(URL, body=requests.exceptions.ReadTimeout("read timed out"))
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code is None
    assert "ReadTimeout" in delivery.last_error


def test_a_retry_that_succeeds_delivers(flow, sub, mocked):
    mocked.post(URL, status=503)
    mocked.post(URL, json=ACCEPTED)
    _emit(sub, "subscription.created")
    delivery = _deliver()
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    assert len(mocked.calls) == 2
