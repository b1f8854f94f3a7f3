"""Webhooks in the merchant console: validated like the API, secret shown, scoped by shop."""

import pytest
from django.test import Client

from tests import factories as f
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
BASE = "/admin/webhooks/webhookendpoint/"


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory()
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


def test_staff_creates_an_endpoint_in_their_shop_and_sees_its_secret(staff):
    response = staff.post(
        f"{BASE}add/",
        {"url": "https://hooks.example.com/in", "events": ["subscription.skipped"], "enabled": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.shop_id == staff.shop.pk and endpoint.secret.startswith("whsec_")
    page = staff.get(f"{BASE}{endpoint.pk}/change/")
    assert endpoint.secret in page.content.decode()
    assert b"Subscription skip" in staff.get(BASE).content


def test_invalid_url_is_refused_on_the_field(staff):
    response = staff.post(f"{BASE}add/", {"url": "ftp://x.example.com", "events": ["subscription.skipped"]})
    assert response.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    assert response.context["adminform"].form.errors["url"]


def test_other_shops_endpoints_are_hidden(staff):
    theirs = WebhookEndpoint.objects.create(
        shop_id=f.ShopFactory().pk, url="https://theirs.example.com", events=["subscription.paused"]
    )
    assert b"theirs.example.com" not in staff.get(BASE).content
    assert staff.get(f"{BASE}{theirs.pk}/change/").status_code == 404
    assert staff.post(f"{BASE}{theirs.pk}/delete/", {"post": "yes"}).status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()
