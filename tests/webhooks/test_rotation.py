"""Rotating an endpoint's secret: for 24 hours receivers holding either secret verify every webhook,
then only the new secret does."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from subscriptions import services
from subscriptions.actors import Actor
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery
from webhooks.services import endpoint_create, endpoint_rotate_secret

ACTOR = Actor.admin("ops")


def _headers(request) -> dict:
    return {k.lower(): v for k, v in request["headers"].items()}


def _send_one(sub, receiver):
    services.subscription_skip(subscription=sub, actor=ACTOR)
    engine.relay(enqueue=False)
    delivery = Delivery.objects.filter(status=Delivery.Status.PENDING).get()
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    return receiver.requests[-1]


@pytest.mark.django_db
def test_old_and_new_secret_both_verify_for_24_hours_then_only_the_new(receiver):
    sub = f.SubscriptionFactory()
    endpoint = endpoint_create(
        shop_id=sub.shop.pk, url=receiver.url, events=["subscription.skipped", "subscription.unskipped"]
    )
    old_secret = endpoint.secret

    with time_machine.travel(timezone.now(), tick=False) as clock:
        endpoint = endpoint_rotate_secret(endpoint=endpoint)
        new_secret = endpoint.secret
        assert new_secret != old_secret and new_secret.startswith("whsec_")
        assert endpoint.previous_secret_expires_at == timezone.now() + dt.timedelta(hours=24)

        request = _send_one(sub, receiver)
        headers = _headers(request)
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert Webhook(old_secret).verify(request["body"], headers)["type"] == "subscription.skipped"
        assert Webhook(new_secret).verify(request["body"], headers)["type"] == "subscription.skipped"

        clock.shift(dt.timedelta(hours=24, seconds=1))
        services.subscription_unskip(subscription=sub, actor=ACTOR)
        engine.relay(enqueue=False)
        later = Delivery.objects.filter(status=Delivery.Status.PENDING).get()
        assert engine.deliver(later.pk) == Delivery.Status.SUCCEEDED
        request = receiver.requests[-1]
        headers = _headers(request)
        assert len(headers["webhook-signature"].split(" ")) == 1
        assert Webhook(new_secret).verify(request["body"], headers)["type"] == "subscription.unskipped"
        with pytest.raises(WebhookVerificationError):
            Webhook(old_secret).verify(request["body"], headers)


@pytest.mark.django_db
def test_rotating_twice_keeps_only_the_latest_previous_secret(receiver):
    endpoint = endpoint_create(shop_id=f.ShopFactory().pk, url=receiver.url, events=["subscription.skipped"])
    first = endpoint.secret
    second = endpoint_rotate_secret(endpoint=endpoint).secret
    third = endpoint_rotate_secret(endpoint=endpoint)
    assert third.previous_secret == second
    assert first not in third.signing_secrets()
    assert third.signing_secrets() == [third.secret, second]
