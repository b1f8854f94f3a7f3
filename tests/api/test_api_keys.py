"""API key authentication of the vendor API: which keys get in, and what they may do."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import ApiKey
from integrations.services import api_key_revoke
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/vendor/purchase-state"


def client_with(header: str, value: str) -> APIClient:
    client = APIClient()
    client.credentials(**{header: value})
    return client


def test_smartrr_header_and_bearer_both_work(shop, make_key):
    _, raw = make_key(shop)
    assert client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw).get(URL).status_code == 200
    assert client_with("HTTP_AUTHORIZATION", f"Bearer {raw}").get(URL).status_code == 200


def test_missing_key_is_401():
    response = APIClient().get(URL)
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("value", ["nonsense", "sk_0000000000.wrong", "Bearer"])
def test_wrong_key_is_401(shop, make_key, value):
    make_key(shop)
    assert client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", value).get(URL).status_code == 401


def test_right_prefix_wrong_secret_is_401(shop, make_key):
    key, raw = make_key(shop)
    assert (
        client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", f"{key.prefix}.not-the-secret").get(URL).status_code == 401
    )


def test_revoked_key_is_401(shop, make_key):
    key, raw = make_key(shop)
    api_key_revoke(api_key=key)
    response = client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw).get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_expired_key_is_401(shop, make_key):
    key, raw = make_key(shop, expires_at=timezone.now() + dt.timedelta(hours=1))
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw).get(URL).status_code == 401


def test_key_without_permission_is_403_naming_it(shop, make_key):
    _, raw = make_key(shop, {"customers": "write"})
    response = client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw).get(URL)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "missing_permission:subscriptions"
    assert "'subscriptions'" in body["detail"]


def test_read_key_cannot_write(shop, make_key):
    _, raw = make_key(shop, {"subscriptions": "read"})
    client = client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {}, format="json")
    assert response.status_code == 403
    assert "read and write" in response.json()["detail"]


def test_last_used_at_is_updated(shop, make_key):
    key, raw = make_key(shop)
    assert key.last_used_at is None
    client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw).get(URL)
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert timezone.now() - key.last_used_at < dt.timedelta(minutes=1)


def test_only_prefix_and_hash_are_stored(shop, make_key):
    key, raw = make_key(shop)
    prefix, _, secret = raw.partition(".")
    key.refresh_from_db()
    assert key.prefix == prefix
    stored = " ".join(str(getattr(key, field.attname)) for field in ApiKey._meta.concrete_fields)
    assert secret not in stored
    assert key.matches(secret)


# ---------------------------------------------------------------- create_api_key command


def test_create_api_key_command_prints_a_working_key():
    shop = f.ShopFactory(domain="cmd-shop.example")
    customer = f.CustomerFactory(shop=shop)
    f.SubscriptionFactory(customer=customer)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key",
        "--shop",
        "cmd-shop.example",
        "--name",
        "Blueprint",
        "--application",
        "Blueprint SMS",
        "--perm",
        "subscriptions:rw",
        "--perm",
        "customers:r",
        "--expires",
        (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    assert raw.startswith("sk_") and "shown only this once" in err.getvalue()
    key = ApiKey.objects.get(shop=shop)
    assert (key.token_nickname, key.application_nickname) == ("Blueprint", "Blueprint SMS")
    assert (key.perm_subscriptions, key.perm_customers, key.perm_webhooks) == ("write", "read", "none")
    assert key.expires_at is not None

    client = client_with("HTTP_X_SMARTRR_ACCESS_TOKEN", raw)
    listed = client.get(URL)
    assert listed.status_code == 200 and listed.json()["totalCount"] == 1
    assert client.get("/vendor/webhook").status_code == 403


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shop", "nowhere.example", "--name", "x", "--perm", "subscriptions:rw"], "No shop"),
        (["--shop", "known.example", "--name", "x", "--perm", "widgets:rw"], "Unknown resource"),
        (["--shop", "known.example", "--name", "x", "--perm", "subscriptions:admin"], "Unknown access"),
        (["--shop", "known.example", "--name", "x"], "--perm"),
        (["--shop", "known.example", "--name", "x", "--perm", "all:r", "--expires", "soon"], "YYYY-MM-DD"),
        (["--shop", "known.example", "--name", "x", "--perm", "all:r", "--expires", "2001-01-01"], "future"),
    ],
)
def test_create_api_key_command_errors(args, message):
    f.ShopFactory(domain="known.example")
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not ApiKey.objects.exists()
