"""Integrations > API Keys in the merchant console: secret shown once, revoke, shop scoping."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import ApiKey
from integrations.services import api_key_create
from tests import factories as f

pytestmark = pytest.mark.django_db
ADD = "/admin/integrations/apikey/"


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory()
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


def add_key(client, **extra):
    data = {
        "token_nickname": "Gorgias helpdesk",
        "application_nickname": "Gorgias",
        "perm_subscriptions": "write",
        "perm_customers": "read",
        "perm_webhooks": "none",
        "perm_orders": "none",
        "perm_loyalty": "none",
        "perm_discounts": "none",
        "expires_on": "",
        **extra,
    }
    return client.post(f"{ADD}add/", data)


def test_created_key_is_shown_once_and_only_prefix_and_hash_are_stored(staff):
    response = add_key(staff)
    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    raw = re.search(r'value="(sk_[^"]+)"', html).group(1)
    key = ApiKey.objects.get()
    assert key.shop == staff.shop  # set automatically for staff
    assert (key.perm_subscriptions, key.perm_customers) == ("write", "read")
    prefix, _, secret = raw.partition(".")
    assert key.prefix == prefix and key.matches(secret)
    assert secret not in key.hashed_secret

    # Never again: not on the list, not on the key's page.
    for url in (ADD, f"{ADD}{key.pk}/change/"):
        page = staff.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert key.hashed_secret not in page.content.decode()
        assert key.salt not in page.content.decode()

    # And the key works against the API.
    assert staff.get("/vendor/purchase-state", HTTP_X_SMARTRR_ACCESS_TOKEN=raw).status_code == 200


def test_list_shows_state_and_permissions(staff):
    api_key_create(shop=staff.shop, token_nickname="Active one", permissions={"subscriptions": "read"})
    revoked, _ = api_key_create(shop=staff.shop, token_nickname="Old one", permissions={})
    revoked.revoked_at = timezone.now()
    revoked.save()
    page = staff.get(ADD).content.decode()
    assert "Active one" in page and "Subscriptions: read" in page
    assert "revoked" in page and "active" in page


def test_expiry_date_is_saved(staff):
    add_key(staff, expires_on=(timezone.localdate().replace(year=timezone.localdate().year + 1)).isoformat())
    assert ApiKey.objects.get().expires_at is not None
    response = add_key(staff, token_nickname="x", expires_on="2001-01-01")
    assert response.status_code == 200 and b"future" in response.content
    assert ApiKey.objects.count() == 1


def test_revoke_button_and_action(staff):
    key, raw = api_key_create(shop=staff.shop, token_nickname="k", permissions={"subscriptions": "read"})
    page = staff.get(f"{ADD}{key.pk}/change/")
    assert b"/revoke/" in page.content
    assert staff.get(f"{ADD}{key.pk}/revoke/").status_code == 405
    response = staff.post(f"{ADD}{key.pk}/revoke/")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert staff.get("/vendor/purchase-state", HTTP_X_SMARTRR_ACCESS_TOKEN=raw).status_code == 401

    other, _ = api_key_create(shop=staff.shop, token_nickname="k2", permissions={})
    response = staff.post(ADD, {"action": "revoke_keys", "_selected_action": [other.pk]})
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_staff_see_only_their_shops_keys(staff):
    theirs, _ = api_key_create(shop=f.ShopFactory(), token_nickname="Other shop key", permissions={})
    assert b"Other shop key" not in staff.get(ADD).content
    assert staff.get(f"{ADD}{theirs.pk}/change/").status_code == 404
    assert staff.post(f"{ADD}{theirs.pk}/revoke/").status_code == 404
    staff.post(ADD, {"action": "revoke_keys", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # Staff cannot pick a shop.
    assert b'name="shop"' not in staff.get(f"{ADD}add/").content


def test_superuser_sees_all_and_picks_the_shop(admin_client):
    shop = f.ShopFactory()
    api_key_create(shop=f.ShopFactory(), token_nickname="Somewhere", permissions={})
    assert b"Somewhere" in admin_client.get(ADD).content
    response = add_key(admin_client, shop=shop.pk)
    assert response.status_code == 200
    assert ApiKey.objects.filter(shop=shop, token_nickname="Gorgias helpdesk").exists()
