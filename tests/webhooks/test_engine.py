"""The delivery engine end to end: services emit, the relay fans out, endpoints receive signed
Standard Webhooks that the `standardwebhooks` package verifies."""

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from subscriptions import services
from subscriptions.actors import Actor
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.services import endpoint_create

ACTOR = Actor.admin("ops")


@pytest.fixture
def sub(db):
    return f.SubscriptionFactory()


def _endpoint(shop, url, events=("subscription.skipped",)):
    return endpoint_create(shop_id=shop.pk, url=url, events=list(events))


def test_receiver_verifies_the_signature_with_standardwebhooks(sub, receiver):
    endpoint = _endpoint(sub.shop, receiver.url)
    services.subscription_skip(subscription=sub, actor=ACTOR)
    assert engine.relay(enqueue=False) == 1
    delivery = Delivery.objects.get()
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED

    request = receiver.requests[0]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    payload = Webhook(endpoint.secret).verify(request["body"], headers)
    assert headers["webhook-id"] == str(delivery.pk)
    assert payload["type"] == "subscription.skipped"
    assert payload["data"]["subscription"]["id"] == sub.pk
    assert payload["data"]["subscription"]["items"][0]["sku"] == sub.lines.first().variant.sku


def test_only_interested_enabled_endpoints_of_the_shop_get_the_event(sub, receiver):
    wanted = _endpoint(sub.shop, receiver.url)
    _endpoint(sub.shop, receiver.url, events=["subscription.paused"])
    disabled = _endpoint(sub.shop, receiver.url)
    WebhookEndpoint.objects.filter(pk=disabled.pk).update(enabled=False)
    _endpoint(f.ShopFactory(), receiver.url)

    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)

    assert list(Delivery.objects.values_list("destination_id", flat=True)) == [str(wanted.pk)]


def test_an_event_rolled_back_is_never_delivered(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.subscription_skip(subscription=sub, actor=ACTOR)
        raise RuntimeError("the request failed after the skip")
    assert engine.relay(enqueue=False) == 0
    assert Delivery.objects.count() == 0
    assert receiver.requests == []


def test_two_relays_create_each_delivery_once(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    # A second relay (or one that raced and lost) finds nothing new and duplicates nothing.
    from webhooks.models import OutboxEvent

    OutboxEvent.objects.update(relayed_at=None)
    engine.relay(enqueue=False)
    assert Delivery.objects.count() == 1


def test_failures_are_retried_on_schedule_with_the_same_webhook_id(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    receiver.answers = [(500, {}, b"boom"), (503, {"Retry-After": "120"}, b"busy")]
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get()

    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
        delivery.refresh_from_db()
        wait = delivery.next_attempt_at - timezone.now()
        assert dt.timedelta(seconds=4) <= wait <= dt.timedelta(seconds=6)
        assert engine.deliver(delivery.pk) is None  # not due yet: nothing sent
        clock.shift(6)
        assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
        delivery.refresh_from_db()
        assert delivery.next_attempt_at - timezone.now() == dt.timedelta(seconds=120)  # Retry-After honoured
        clock.shift(121)
        assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED

    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {str(delivery.pk)}
    attempts = list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code", "succeeded")
    )
    assert attempts == [(1, 500, False), (2, 503, False), (3, 200, True)]
    assert DeliveryAttempt.objects.get(number=1).response_excerpt == "boom"


def test_a_4xx_answer_is_not_retried(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    receiver.answers = [(400, {}, b"bad")]
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    assert engine.deliver(Delivery.objects.get().pk) == Delivery.Status.FAILED
    assert len(receiver.requests) == 1


def test_410_gone_disables_the_endpoint_and_tells_the_staff(sub, receiver, mailoutbox):
    staff = f.StaffMembershipFactory(shop=sub.shop, user__email="owner@shop.example")
    endpoint = _endpoint(sub.shop, receiver.url)
    receiver.answers = [(410, {}, b"gone")]
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    assert engine.deliver(Delivery.objects.get().pk) == Delivery.Status.FAILED

    endpoint.refresh_from_db()
    assert endpoint.enabled is False
    assert "410" in endpoint.disabled_reason
    assert [m.to for m in mailoutbox] == [[staff.user.email]]
    # Later events are not sent to it.
    services.subscription_unskip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    assert Delivery.objects.count() == 1


def test_redirects_are_not_followed(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    receiver.answers = [(302, {"Location": "http://127.0.0.1:9/elsewhere"}, b"")]
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get()
    assert engine.deliver(delivery.pk) == Delivery.Status.PENDING
    assert len(receiver.requests) == 1
    assert "redirect" in DeliveryAttempt.objects.get().error


def test_private_addresses_are_refused_without_the_development_setting(sub, receiver, settings):
    _endpoint(sub.shop, receiver.url)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    assert engine.deliver(Delivery.objects.get().pk) == Delivery.Status.FAILED
    assert receiver.requests == []
    assert "refused" in DeliveryAttempt.objects.get().error


def test_body_is_the_event_envelope(sub, receiver):
    _endpoint(sub.shop, receiver.url)
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    engine.deliver(Delivery.objects.get().pk)
    body = json.loads(receiver.requests[0]["body"])
    assert set(body) == {"id", "type", "version", "occurred_at", "shop", "actor", "data"}
    assert body["shop"] == sub.shop.domain
    assert body["actor"] == "admin"
