"""The endpoint page in the merchant console: delivery log, replay, test events, sample payloads,
the Deliveries list, and the notice shown while an endpoint is disabled."""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db
BASE = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/delivery/"


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory()
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


@pytest.fixture
def endpoint(staff, receiver):
    return endpoint_create(
        shop_id=staff.shop.pk, url=receiver.url, events=["subscription.skipped", "subscription.paused"]
    )


def _delivery(
    endpoint, *, type="subscription.skipped", status=Delivery.Status.FAILED, created=None, attempts=()
):
    event = f.OutboxEventFactory(shop_id=endpoint.shop_id, type=type, relayed_at=timezone.now())
    delivery = Delivery.objects.create(
        event=event,
        shop_id=endpoint.shop_id,
        destination_kind="webhook",
        destination_id=str(endpoint.pk),
        event_type=type,
        status=status,
        attempt_count=len(attempts),
    )
    if created is not None:
        Delivery.objects.filter(pk=delivery.pk).update(created_at=created)
    for number, (code, excerpt, error) in enumerate(attempts, start=1):
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=timezone.now(),
            duration_ms=120 + number,
            status_code=code,
            response_excerpt=excerpt,
            error=error,
        )
    return delivery


def _page(staff, endpoint, query=""):
    response = staff.get(f"{BASE}{endpoint.pk}/change/{query}")
    assert response.status_code == 200
    return response


def test_delivery_log_lists_this_endpoints_deliveries_newest_first_with_attempts(staff, endpoint):
    now = timezone.now()
    old = _delivery(endpoint, created=now - dt.timedelta(hours=2), attempts=[(500, "upstream exploded", "")])
    new = _delivery(
        endpoint,
        type="subscription.paused",
        created=now,
        attempts=[(None, "", "ConnectTimeout: took too long")],
    )
    other_endpoint = endpoint_create(
        shop_id=staff.shop.pk, url="https://else.example.com", events=["subscription.paused"]
    )
    elsewhere = _delivery(other_endpoint)

    response = _page(staff, endpoint)
    log = list(response.context["delivery_log"].object_list)
    assert log == [new, old]
    html = response.content.decode()
    assert "upstream exploded" in html and "ConnectTimeout: took too long" in html
    assert "121 ms" in html
    assert str(elsewhere.pk) not in html


def test_delivery_log_filters_by_status_event_type_and_date(staff, endpoint):
    now = timezone.now()
    failed = _delivery(endpoint, created=now)
    delivered = _delivery(endpoint, status=Delivery.Status.SUCCEEDED, created=now)
    paused_event = _delivery(endpoint, type="subscription.paused", created=now)
    last_week = _delivery(endpoint, created=now - dt.timedelta(days=7))

    def shown(query):
        return set(_page(staff, endpoint, query).context["delivery_log"].object_list)

    assert shown("?log-status=succeeded") == {delivered}
    assert shown("?log-event_type=subscription.paused") == {paused_event}
    today = timezone.localdate().isoformat()
    assert shown(f"?log-since={today}") == {failed, delivered, paused_event}
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert shown(f"?log-until={week_ago}") == {last_week}


def test_delivery_log_is_paginated(staff, endpoint):
    for _ in range(27):
        _delivery(endpoint)
    first = _page(staff, endpoint).context["delivery_log"]
    assert len(first.object_list) == 25 and first.paginator.num_pages == 2
    second = _page(staff, endpoint, "?log-page=2").context["delivery_log"]
    assert len(second.object_list) == 2


def test_replay_sends_the_delivery_again_with_the_same_webhook_id(
    staff, endpoint, receiver, django_capture_on_commit_callbacks
):
    delivery = _delivery(endpoint, attempts=[(500, "boom", "")])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(delivery.pk)]
    assert _page(staff, endpoint).context["delivery_log"].object_list[0].attempts.count() == 2


def test_replay_all_failed_since_a_time(staff, endpoint, receiver, django_capture_on_commit_callbacks):
    now = timezone.now()
    recent = _delivery(endpoint, created=now - dt.timedelta(hours=1))
    older = _delivery(endpoint, created=now - dt.timedelta(days=3))
    _delivery(endpoint, status=Delivery.Status.SUCCEEDED, created=now)
    since = timezone.localtime(now - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    assert staff.get(f"{BASE}{endpoint.pk}/replay-failed/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"{BASE}{endpoint.pk}/replay-failed/", {"since": since})
    assert response.status_code == 302
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(recent.pk)]
    older.refresh_from_db()
    assert older.status == Delivery.Status.FAILED


def test_send_test_event_reaches_only_this_endpoint_signed(
    staff, endpoint, receiver, django_capture_on_commit_callbacks
):
    sibling = endpoint_create(shop_id=staff.shop.pk, url=receiver.url, events=["subscription.paused"])
    assert staff.get(f"{BASE}{endpoint.pk}/send-test-event/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"{BASE}{endpoint.pk}/send-test-event/", {"event_type": "subscription.paused"})
    assert response.status_code == 302
    assert engine.relay(enqueue=False) == 0  # the test event is born relayed: nobody else gets it

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    payload = Webhook(endpoint.secret).verify(request["body"], headers)
    assert payload["type"] == "subscription.paused"
    assert payload["shop"] == staff.shop.domain
    assert payload["data"]["subscription"]["items"][0]["sku"]
    assert payload["data"]["first_name"]
    assert list(Delivery.objects.values_list("destination_id", flat=True)) == [str(endpoint.pk)]
    assert not Delivery.objects.filter(destination_id=str(sibling.pk)).exists()


def test_sample_payload_uses_the_shops_first_subscription_when_it_has_one(staff, endpoint):
    sub = f.SubscriptionFactory(shop=staff.shop)
    response = staff.get(f"{BASE}sample-payload/subscription.skipped/")
    assert response.status_code == 200
    body = json.loads(response.context["body"])
    assert set(body) == {"id", "type", "version", "occurred_at", "shop", "actor", "data"}
    assert body["data"]["subscription"]["id"] == sub.pk
    assert body["data"]["customer"]["email"] == sub.customer.email
    assert OutboxEvent.objects.count() == 0  # showing a sample writes nothing
    assert staff.get(f"{BASE}sample-payload/order.exploded/").status_code == 404


def test_rotate_secret_from_the_console(staff, endpoint):
    old = endpoint.secret
    assert staff.get(f"{BASE}{endpoint.pk}/rotate-secret/").status_code == 200
    assert staff.post(f"{BASE}{endpoint.pk}/rotate-secret/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    page = _page(staff, endpoint).content.decode()
    assert endpoint.secret in page and "Still signing until" in page


def test_another_shops_endpoint_and_deliveries_are_404(staff, receiver):
    other_shop = f.ShopFactory()
    theirs = endpoint_create(shop_id=other_shop.pk, url=receiver.url, events=["subscription.skipped"])
    delivery = _delivery(theirs)
    for url in (
        f"{BASE}{theirs.pk}/change/",
        f"{BASE}{theirs.pk}/send-test-event/",
        f"{BASE}{theirs.pk}/rotate-secret/",
        f"{BASE}{theirs.pk}/replay-failed/",
        f"{DELIVERIES}{delivery.pk}/change/",
    ):
        assert staff.get(url).status_code == 404, url
    for url in (
        f"{BASE}{theirs.pk}/deliveries/{delivery.pk}/replay/",
        f"{BASE}{theirs.pk}/rotate-secret/",
        f"{BASE}{theirs.pk}/send-test-event/",
    ):
        assert staff.post(url, {"event_type": "subscription.skipped"}).status_code == 404, url
    theirs_before = theirs.secret
    theirs.refresh_from_db()
    assert theirs.secret == theirs_before
    assert receiver.requests == []
    assert str(delivery.pk) not in staff.get(DELIVERIES).content.decode()


def test_a_delivery_of_another_endpoint_cannot_be_replayed_through_mine(staff, endpoint):
    other = endpoint_create(
        shop_id=staff.shop.pk, url="https://else.example.com", events=["subscription.paused"]
    )
    delivery = _delivery(other)
    assert staff.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/replay/").status_code == 404


def test_deliveries_list_filters_and_bulk_replay(
    staff, endpoint, receiver, django_capture_on_commit_callbacks
):
    failed = _delivery(endpoint)
    paused = _delivery(endpoint, type="subscription.paused")
    mine = {str(failed.pk), str(paused.pk)}
    theirs = _delivery(
        endpoint_create(shop_id=f.ShopFactory().pk, url=receiver.url, events=["subscription.skipped"])
    )

    listed = staff.get(DELIVERIES)
    assert listed.status_code == 200
    assert {str(d.pk) for d in listed.context["cl"].result_list} == mine
    by_type = staff.get(f"{DELIVERIES}?event_type=subscription.paused")
    assert [d.pk for d in by_type.context["cl"].result_list] == [paused.pk]
    by_destination = staff.get(f"{DELIVERIES}?destination=webhook:{endpoint.pk}&status=failed")
    assert {str(d.pk) for d in by_destination.context["cl"].result_list} == mine
    assert staff.get(f"{DELIVERIES}{failed.pk}/change/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            DELIVERIES, {"action": "replay_selected", "_selected_action": [failed.pk, paused.pk, theirs.pk]}
        )
    assert response.status_code == 302
    assert {r["headers"]["webhook-id"] for r in receiver.requests} == mine
    theirs.refresh_from_db()
    assert theirs.status == Delivery.Status.FAILED


def test_disabled_endpoint_notice_on_every_page_until_re_enabled(staff, endpoint, receiver):
    endpoint_disabled_at = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False,
        disabled_reason="Every delivery failed for 5 days.",
        disabled_at=endpoint_disabled_at,
        failing_since=endpoint_disabled_at - dt.timedelta(days=5),
    )
    for page in ("/admin/", DELIVERIES, "/admin/webhooks/outboxevent/"):
        html = staff.get(page).content.decode()
        assert (
            f'Webhook endpoint <a href="{BASE}{endpoint.pk}/change/">{receiver.url}</a> was disabled' in html
        )
        assert "Every delivery failed for 5 days." in html

    stranger = Client()
    stranger.force_login(f.StaffMembershipFactory().user)
    assert "was disabled" not in stranger.get("/admin/").content.decode()

    response = staff.post(
        f"{BASE}{endpoint.pk}/change/",
        {"url": receiver.url, "events": ["subscription.skipped"], "description": "", "enabled": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert (endpoint.failing_since, endpoint.disabled_reason, endpoint.disabled_at) == (None, "", None)
    assert "was disabled" not in staff.get("/admin/").content.decode()


def test_replay_and_test_events_are_refused_while_the_endpoint_is_disabled(staff, endpoint, receiver):
    delivery = _delivery(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="410 Gone")
    staff.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/replay/")
    staff.post(f"{BASE}{endpoint.pk}/send-test-event/", {"event_type": "subscription.skipped"})
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    assert Delivery.objects.count() == 1
    assert receiver.requests == []
