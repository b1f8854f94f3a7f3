"""Webhook endpoints through the vendor API: Smartrr's topic + url, or our events list."""

import pytest

from tests import factories as f
from webhooks.models import WebhookEndpoint
from webhooks.registry import event_types

pytestmark = pytest.mark.django_db


def test_catalogue_is_registered_at_start_up():
    types = event_types()
    assert types["subscription.skipped"].seed_name == "Subscription skip"
    assert "loyalty.points_earned" in types


def test_create_with_events_list_and_list_it(api, shop):
    created = api.post(
        "/vendor/webhook",
        {"url": "https://hooks.example.com/in", "events": ["subscription.skipped", "subscription.paused"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["events"] == ["subscription.skipped", "subscription.paused"]
    assert body["topic"] == "Subscription skip"
    assert body["secret"].startswith("whsec_")
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.shop_id == shop.pk and endpoint.enabled

    listed = api.get("/vendor/webhook")
    assert listed.status_code == 200
    assert [w["id"] for w in listed.json()["data"]] == [endpoint.pk]
    assert "secret" not in listed.json()["data"][0]


def test_create_with_seed_name_topic(api):
    created = api.post(
        "/vendor/webhook",
        {"url": "https://hooks.example.com/x", "topic": "Subscription cancel"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["events"] == ["subscription.canceled"]


def test_secrets_are_unique_per_endpoint(api):
    a = api.post(
        "/vendor/webhook", {"url": "https://a.example.com", "topic": "subscription.paused"}, format="json"
    )
    b = api.post(
        "/vendor/webhook", {"url": "https://b.example.com", "topic": "subscription.paused"}, format="json"
    )
    assert a.json()["secret"] != b.json()["secret"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com", "topic": "Subscription skip"}, "url"),
        ({"url": "not a url", "topic": "Subscription skip"}, "url"),
        ({"url": "https://", "topic": "Subscription skip"}, "url"),
        ({"url": "https://hooks.example.com", "topic": "Subscription explode"}, "topic"),
        ({"url": "https://hooks.example.com", "events": ["order.shipped"]}, "events"),
        ({"url": "https://hooks.example.com", "events": []}, "events"),
        ({"topic": "Subscription skip"}, "url"),
        ({"url": "https://hooks.example.com"}, "events"),
        ({"url": "https://hooks.example.com", "topic": "Subscription skip", "color": "red"}, "color"),
    ],
)
def test_invalid_input_is_400_naming_the_field(api, body, field):
    response = api.post("/vendor/webhook", body, format="json")
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert problem["errors"][0]["field"] == field
    assert not WebhookEndpoint.objects.exists()


def test_update_and_delete(api, shop):
    endpoint = WebhookEndpoint.objects.create(
        shop_id=shop.pk, url="https://old.example.com", events=["subscription.paused"]
    )
    updated = api.put(
        f"/vendor/webhook/{endpoint.pk}",
        {"url": "https://new.example.com/hook", "topic": "Subscription un-skip"},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    endpoint.refresh_from_db()
    assert endpoint.url == "https://new.example.com/hook"
    assert endpoint.events == ["subscription.unskipped"]

    bad = api.put(f"/vendor/webhook/{endpoint.pk}", {"url": "javascript:alert(1)"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "url"

    deleted = api.delete(f"/vendor/webhook/{endpoint.pk}")
    assert deleted.status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_other_shops_webhooks_are_invisible_and_404(api):
    other = f.ShopFactory()
    theirs = WebhookEndpoint.objects.create(
        shop_id=other.pk, url="https://theirs.example.com", events=["subscription.paused"]
    )
    assert api.get("/vendor/webhook").json()["data"] == []
    assert (
        api.put(
            f"/vendor/webhook/{theirs.pk}", {"url": "https://mine.example.com"}, format="json"
        ).status_code
        == 404
    )
    assert api.delete(f"/vendor/webhook/{theirs.pk}").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk, url="https://theirs.example.com").exists()


def test_needs_the_webhooks_permission(shop, make_key, client):
    _, raw = make_key(shop, {"subscriptions": "write"})
    response = client.get("/vendor/webhook", HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert response.status_code == 403
    assert "webhooks" in response.json()["detail"]
    _, read_only = make_key(shop, {"webhooks": "read"})
    assert client.get("/vendor/webhook", HTTP_X_SMARTRR_ACCESS_TOKEN=read_only).status_code == 200
    denied = client.post(
        "/vendor/webhook",
        {"url": "https://hooks.example.com", "topic": "Subscription skip"},
        content_type="application/json",
        HTTP_X_SMARTRR_ACCESS_TOKEN=read_only,
    )
    assert denied.status_code == 403


def test_rotate_secret_answers_the_new_secret_and_keeps_the_old_one_for_a_day(api, shop):
    created = api.post(
        "/vendor/webhook",
        {"url": "https://hooks.example.com/in", "topic": "Subscription skip"},
        format="json",
    ).json()
    rotated = api.post(f"/vendor/webhook/{created['id']}/rotate-secret", format="json")
    assert rotated.status_code == 200, rotated.content
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previousSecretExpiresAt"]
    endpoint = WebhookEndpoint.objects.get(pk=created["id"])
    assert endpoint.signing_secrets() == [body["secret"], created["secret"]]

    theirs = WebhookEndpoint.objects.create(
        shop_id=f.ShopFactory().pk, url="https://theirs.example.com", events=["subscription.paused"]
    )
    assert api.post(f"/vendor/webhook/{theirs.pk}/rotate-secret", format="json").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "https://nowhere.invalid/hook",
    ],
)
def test_private_or_unresolvable_urls_are_400_naming_url(api, url):
    response = api.post("/vendor/webhook", {"url": url, "topic": "Subscription skip"}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert error["field"] == "url"
    assert not WebhookEndpoint.objects.exists()
