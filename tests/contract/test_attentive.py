"""Attentive wire format (reference/partner-contracts.md, Attentive): OAuth install and code
exchange, the 9 triggers as custom events, the subscriber's custom attributes after each one, and
how each kind of answer is handled."""

import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from integrations.adapters import attentive
from integrations.models import Integration
from integrations.services import integration_connect
from portal.links import subscription_link_target
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.events import emit_subscription_event
from subscriptions.models import Subscription
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery

EVENTS_URL = "https://api.attentivemobile.com/v1/events/custom"
ATTRIBUTES_URL = "https://api.attentivemobile.com/v1/attributes/custom"
TOKEN_URL = "https://api.attentivemobile.com/v1/authorization-codes/tokens"
TOKEN = "att_access_0123456789"
SITE = "https://subs.example.com"
CALLBACK = f"{SITE}/hooks/attentive/oauth/callback"

TRIGGERS = {
    "subscription.created": "Subscription Created",
    "subscription.upcoming_order": "Upcoming Subscription Order",
    "subscription.transaction_failed": "Failed Subscription Payment",
    "subscription.skipped": "Subscription Skipped",
    "subscription.unskipped": "Subscription Unskipped",
    "subscription.canceled": "Subscription Canceled",
    "subscription.paused": "Subscription Paused",
    "subscription.activated": "Subscription Activated",
    "subscription.payment_method_updated": "Payment Method Updated",
}


@pytest.fixture(autouse=True)
def attentive_app(settings):
    settings.SITE_URL = SITE
    settings.ATTENTIVE_CLIENT_ID = "client-123"
    settings.ATTENTIVE_CLIENT_SECRET = "secret-456"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(first_name="Rosa", email="rosa@example.com", phone="(555) 010-4477")
    return f.SubscriptionFactory(customer=customer)


@pytest.fixture
def connected(sub):
    return integration_connect(shop=sub.shop, partner_key="attentive", credentials={"access_token": TOKEN})


def _emit(sub, event_type, extra=None):
    with transaction.atomic():
        emit_subscription_event(event_type, sub, actor=Actor.admin("ops"), extra=extra)


def _deliver() -> Delivery:
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get(destination_kind="integration", status=Delivery.Status.PENDING)
    engine.deliver(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def _accept(mocked):
    mocked.post(EVENTS_URL, status=200, json={})
    mocked.post(ATTRIBUTES_URL, status=200, json={})


def _json(call) -> dict:
    return json.loads(call.request.body)


# ---------------------------------------------------------------- OAuth


@pytest.fixture
def staff(client, sub):
    membership = f.StaffMembershipFactory(shop=sub.shop)
    client.force_login(membership.user)
    return membership.user


def _start(client) -> str:
    response = client.get("/hooks/attentive/oauth/start")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://ui.attentivemobile.com/integrations/oauth-install"
    )
    query = parse_qs(location.query)
    assert query["client_id"] == ["client-123"]
    assert query["redirect_uri"] == [CALLBACK]
    assert query["scope"] == ["events:write attributes:write"]
    return query["state"][0]


def test_install_sends_the_merchant_to_attentive_with_a_signed_state(staff, client, sub, settings):
    settings.ATTENTIVE_AUTHORIZE_URL = "https://ui.attentivemobile.com/integrations/oauth-install"
    state = _start(client)
    payload = attentive.signing.loads(state, salt=attentive.STATE_SALT)
    assert payload["shop"] == sub.shop.pk
    assert payload["user"] == staff.pk
    assert payload["nonce"] == client.session[attentive.SESSION_NONCE]


def test_the_install_page_needs_a_staff_login(client, db):
    response = client.get("/hooks/attentive/oauth/start")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_callback_exchanges_the_code_and_connects_with_the_token_encrypted(staff, client, sub, mocked):
    state = _start(client)
    mocked.post(TOKEN_URL, json={"access_token": TOKEN, "token_type": "Bearer"})

    response = client.get("/hooks/attentive/oauth/callback", {"code": "code-789", "state": state})

    assert response.status_code == 302
    assert len(mocked.calls) == 1
    request = mocked.calls[0].request
    assert request.method == "POST"
    assert request.url == TOKEN_URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body if isinstance(request.body, str) else request.body.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["code-789"],
        "redirect_uri": [CALLBACK],
        "client_id": ["client-123"],
        "client_secret": ["secret-456"],
    }
    integration = Integration.objects.get(shop=sub.shop, partner="attentive")
    assert integration.state == Integration.State.CONNECTED
    assert integration.credentials == {"access_token": TOKEN}
    assert set(integration.events) == set(TRIGGERS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in str(stored)


def _refused(response):
    assert response.status_code == 400
    assert b"was not connected" in response.content
    assert not Integration.objects.filter(partner="attentive").exists()


def test_a_tampered_state_is_refused_and_nothing_is_saved(staff, client, mocked):
    state = _start(client)
    tampered = state[:-2] + ("AA" if not state.endswith("AA") else "BB")

    _refused(client.get("/hooks/attentive/oauth/callback", {"code": "code-789", "state": tampered}))
    assert len(mocked.calls) == 0


def test_a_state_older_than_ten_minutes_is_refused(staff, client, mocked):
    state = _start(client)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        response = client.get("/hooks/attentive/oauth/callback", {"code": "code-789", "state": state})
    _refused(response)
    assert b"10 minutes" in response.content
    assert len(mocked.calls) == 0


def test_a_missing_state_is_refused(staff, client, mocked):
    _refused(client.get("/hooks/attentive/oauth/callback", {"code": "code-789"}))
    assert len(mocked.calls) == 0


def test_a_state_is_used_once_and_only_by_the_browser_that_started_it(staff, client, mocked, sub):
    state = _start(client)
    other = f.StaffMembershipFactory(shop=sub.shop).user
    from django.test import Client

    stranger = Client()
    stranger.force_login(other)
    _refused(stranger.get("/hooks/attentive/oauth/callback", {"code": "code-789", "state": state}))

    mocked.post(TOKEN_URL, json={"access_token": TOKEN})
    assert client.get("/hooks/attentive/oauth/callback", {"code": "c", "state": state}).status_code == 302
    # The nonce is spent: the same link again is refused.
    response = client.get("/hooks/attentive/oauth/callback", {"code": "c", "state": state})
    assert response.status_code == 400


def test_a_refused_code_saves_nothing(staff, client, mocked):
    state = _start(client)
    mocked.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})

    response = client.get("/hooks/attentive/oauth/callback", {"code": "stale", "state": state})

    assert response.status_code == 502
    assert b"invalid_grant" in response.content
    assert not Integration.objects.filter(partner="attentive").exists()


def test_the_merchant_declining_saves_nothing(staff, client, mocked):
    state = _start(client)
    _refused(client.get("/hooks/attentive/oauth/callback", {"error": "access_denied", "state": state}))
    assert len(mocked.calls) == 0


# ---------------------------------------------------------------- events and attributes


def test_the_nine_triggers():
    assert attentive.EVENTS == TRIGGERS


@pytest.mark.parametrize("event_type", sorted(TRIGGERS))
def test_each_trigger_is_one_custom_event_then_the_attributes(connected, sub, mocked, event_type):
    _accept(mocked)
    _emit(sub, event_type, {"skipped_date": "2025-03-04"} if event_type == "subscription.skipped" else None)

    delivery = _deliver()

    assert delivery.status == Delivery.Status.SUCCEEDED
    assert [(c.request.method, c.request.url) for c in mocked.calls] == [
        ("POST", EVENTS_URL),
        ("POST", ATTRIBUTES_URL),
    ]
    for call in mocked.calls:
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert call.request.headers["Content-Type"] == "application/json"
    body = _json(mocked.calls[0])
    occurred = delivery.event.occurred_at.astimezone(dt.UTC)
    assert set(body) == {"type", "properties", "user", "externalEventId", "occurredAt"}
    assert body["type"] == TRIGGERS[event_type]
    assert body["user"] == {"phone": "+15550104477", "email": "rosa@example.com"}
    assert body["externalEventId"] == str(delivery.pk)
    assert dt.datetime.fromisoformat(body["occurredAt"].replace("Z", "+00:00")) == occurred
    properties = body["properties"]
    assert all(isinstance(value, str) for value in properties.values())
    assert properties["first_name"] == "Rosa"
    assert properties["account_page_link"].startswith(f"{SITE}/account/link/")
    assert subscription_link_target(properties["account_page_link"]) == (sub.customer_id, sub.pk)
    assert properties["subscription_id"] == str(sub.pk)
    assert properties["frequency_interval"] == str(sub.plan.interval_count)
    assert "new_delivery_date" in properties and "products" in properties
    if event_type == "subscription.skipped":
        assert properties["skipped_date"] == "2025-03-04"

    attributes = _json(mocked.calls[1])
    assert attributes["user"] == {"phone": "+15550104477", "email": "rosa@example.com"}
    assert attributes["properties"] == {
        "Active Subscriptions": "1",
        "Subscription Status": "ACTIVE",
        "Next Order Date": sub.next_billing_date.strftime(sub.shop.date_format),
    }


def test_attributes_say_how_things_are_when_sent(connected, sub, mocked):
    f.SubscriptionFactory(customer=sub.customer)
    services.subscription_cancel(subscription=sub, actor=Actor.admin("ops"), reason="Too much")
    _accept(mocked)

    delivery = _deliver()

    assert delivery.status == Delivery.Status.SUCCEEDED
    assert _json(mocked.calls[0])["type"] == "Subscription Canceled"
    assert _json(mocked.calls[1])["properties"] == {
        "Active Subscriptions": "1",
        "Subscription Status": Subscription.Status.CANCELLED,
        "Next Order Date": "",
    }


def test_a_customer_without_phone_is_known_by_email(connected, sub, mocked):
    sub.customer.phone = ""
    sub.customer.save()
    _accept(mocked)
    _emit(sub, "subscription.created")

    _deliver()

    assert _json(mocked.calls[0])["user"] == {"email": "rosa@example.com"}


def test_only_the_events_the_merchant_chose_go_to_attentive(connected, sub, mocked):
    from integrations.services import integration_set_events

    integration_set_events(integration=connected, events=["subscription.paused"])
    _emit(sub, "subscription.created")
    _emit(sub, "subscription.gifted")  # never an Attentive trigger
    engine.relay(enqueue=False)
    assert not Delivery.objects.filter(destination_kind="integration").exists()


# ---------------------------------------------------------------- answers


def test_401_holds_the_delivery_until_the_merchant_reconnects(
    connected, sub, mocked, django_capture_on_commit_callbacks
):
    mocked.post(EVENTS_URL, status=401, json={"message": "Unauthorized"})
    _emit(sub, "subscription.paused")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PAUSED
    connected.refresh_from_db()
    assert connected.state == Integration.State.NEEDS_ATTENTION
    _emit(sub, "subscription.activated")
    engine.relay(enqueue=False)
    second = Delivery.objects.exclude(pk=delivery.pk).get()
    assert engine.deliver(second.pk) == Delivery.Status.PAUSED
    assert len(mocked.calls) == 1

    mocked.reset()
    _accept(mocked)
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(shop=sub.shop, partner_key="attentive", credentials={"access_token": "att_new"})

    connected.refresh_from_db()
    assert connected.state == Integration.State.CONNECTED
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    # Attentive's connect makes no call (the OAuth exchange is the check): every call is a send.
    sent = [_json(c)["type"] for c in mocked.calls if c.request.url == EVENTS_URL]
    assert sorted(sent) == ["Subscription Activated", "Subscription Paused"]
    assert {c.request.headers["Authorization"] for c in mocked.calls} == {"Bearer att_new"}


def test_reinstalling_through_oauth_releases_held_deliveries(
    connected, sub, mocked, client, django_capture_on_commit_callbacks
):
    Integration.objects.filter(pk=connected.pk).update(state=Integration.State.NEEDS_ATTENTION)
    mocked.post(EVENTS_URL, status=401)
    _emit(sub, "subscription.paused")
    assert _deliver().status == Delivery.Status.PAUSED

    client.force_login(f.StaffMembershipFactory(shop=sub.shop).user)
    state = _start(client)
    mocked.reset()
    mocked.post(TOKEN_URL, json={"access_token": "att_reinstalled"})
    _accept(mocked)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/hooks/attentive/oauth/callback", {"code": "again", "state": state})

    assert response.status_code == 302
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED
    assert mocked.calls[1].request.headers["Authorization"] == "Bearer att_reinstalled"


def test_429_is_retried_after_retry_after(connected, sub, mocked):
    mocked.post(EVENTS_URL, status=429, headers={"Retry-After": "30"}, json={"message": "Too many"})
    _emit(sub, "subscription.created")
    before = timezone.now()

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 429
    assert dt.timedelta(seconds=30) <= delivery.next_attempt_at - before < dt.timedelta(seconds=33)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried(connected, sub, mocked, status):
    mocked.post(EVENTS_URL, status=status, body="upstream trouble")
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == status
    assert Integration.objects.get(pk=connected.pk).state == Integration.State.CONNECTED


def test_a_timeout_is_retried(connected, sub, mocked):
    mocked.post(EVENTS_URL, body=requests.exceptions.ConnectTimeout("connect timed out"))
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code is None
    assert "ConnectTimeout" in delivery.last_error


def test_attributes_in_trouble_retry_with_the_same_event_id(connected, sub, mocked):
    mocked.post(EVENTS_URL, json={})
    mocked.post(ATTRIBUTES_URL, status=503)
    _emit(sub, "subscription.created")

    delivery = _deliver()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 503

    mocked.reset()
    _accept(mocked)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    assert _json(mocked.calls[0])["externalEventId"] == str(delivery.pk)


def test_refused_attributes_do_not_lose_the_event(connected, sub, mocked):
    mocked.post(EVENTS_URL, json={})
    mocked.post(ATTRIBUTES_URL, status=400, json={"message": "bad attribute"})
    _emit(sub, "subscription.created")

    assert _deliver().status == Delivery.Status.SUCCEEDED


def test_a_refused_event_fails_without_touching_attributes(connected, sub, mocked):
    mocked.post(EVENTS_URL, status=400, json={"message": "invalid user"})
    _emit(sub, "subscription.created")

    delivery = _deliver()

    assert delivery.status == Delivery.Status.FAILED
    assert [c.request.url for c in mocked.calls] == [EVENTS_URL]
