"""Merchant URLs must lead to the public internet: checked when saved (clear error on the `url`
field) and again when each delivery connects (DNS may have changed in between)."""

import socket

import pytest
from django.test import Client

from subscriptions import services
from subscriptions.actors import Actor
from tests import factories as f
from webhooks import engine
from webhooks.errors import InvalidEndpoint
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db

REFUSED = [
    ("http://127.0.0.1/hook", "127.0.0.1"),
    ("http://10.0.0.1/hook", "10.0.0.1"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://[::1]/hook", "::1"),
    ("ftp://hooks.example.com/in", "https://"),
    ("https://nowhere.invalid/hook", "could not be resolved"),
]


@pytest.fixture(autouse=True)
def _production_rules(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize(("url", "said"), REFUSED)
def test_unsafe_urls_are_refused_on_the_url_field(url, said):
    with pytest.raises(InvalidEndpoint) as refused:
        endpoint_create(shop_id=f.ShopFactory().pk, url=url, events=["subscription.skipped"])
    assert refused.value.field == "url"
    assert said in refused.value.message
    assert not WebhookEndpoint.objects.exists()


def test_a_public_host_is_accepted():
    endpoint = endpoint_create(
        shop_id=f.ShopFactory().pk, url="https://hooks.example.com/in", events=["subscription.skipped"]
    )
    assert endpoint.url == "https://hooks.example.com/in"


def test_changing_the_url_to_a_private_address_is_refused():
    endpoint = endpoint_create(
        shop_id=f.ShopFactory().pk, url="https://hooks.example.com/in", events=["subscription.skipped"]
    )
    with pytest.raises(InvalidEndpoint):
        endpoint_update(endpoint=endpoint, url="http://192.168.1.20/hook")
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/in"


def test_loopback_is_allowed_only_with_the_development_setting(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    endpoint = endpoint_create(
        shop_id=f.ShopFactory().pk, url="http://127.0.0.1:8001/hook", events=["subscription.skipped"]
    )
    assert endpoint.pk
    # The cloud metadata address stays out of reach even then.
    with pytest.raises(InvalidEndpoint):
        endpoint_create(
            shop_id=endpoint.shop_id, url="http://169.254.169.254/", events=["subscription.skipped"]
        )


def test_the_console_shows_the_error_on_the_url_field():
    membership = f.StaffMembershipFactory()
    client = Client()
    client.force_login(membership.user)
    response = client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"url": "http://10.0.0.1/hook", "events": ["subscription.skipped"]},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["url"]
    assert "10.0.0.1" in errors[0] and "public" in errors[0]
    assert not WebhookEndpoint.objects.exists()


def test_dns_rebinding_is_caught_when_the_delivery_connects(monkeypatch, receiver, settings):
    """The host resolved to a public address when saved; by delivery time it points at loopback."""
    answer = {"address": "93.184.215.14"}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "rebind.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["address"], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False  # the receiver fixture allows it; production does not
    port = receiver.server.server_address[1]
    sub = f.SubscriptionFactory()
    endpoint_create(
        shop_id=sub.shop.pk, url=f"http://rebind.example.com:{port}/hook", events=["subscription.skipped"]
    )

    answer["address"] = "127.0.0.1"  # the attacker's DNS now answers with an internal address
    services.subscription_skip(subscription=sub, actor=Actor.admin("ops"))
    engine.relay(enqueue=False)
    delivery = Delivery.objects.get()
    assert engine.deliver(delivery.pk) == Delivery.Status.FAILED
    assert receiver.requests == []
    assert "refused" in DeliveryAttempt.objects.get().error
