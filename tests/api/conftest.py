"""Vendor API fixtures: a shop with an API key of chosen permissions, and a client that sends it."""

import pytest
from rest_framework.test import APIClient

from integrations.services import api_key_create
from tests import factories as f

ALL_WRITE = {r: "write" for r in ("subscriptions", "customers", "webhooks", "orders", "loyalty", "discounts")}


@pytest.fixture
def shop(db):
    return f.ShopFactory(timezone="America/New_York", currency="USD")


@pytest.fixture
def make_key():
    def make(shop, permissions=None, **kwargs):
        return api_key_create(
            shop=shop, token_nickname="helpdesk", permissions=permissions or ALL_WRITE, **kwargs
        )

    return make


@pytest.fixture
def api(shop, make_key):
    """An APIClient authenticated with a read-and-write key of `shop` (Smartrr's header)."""
    _, raw = make_key(shop)
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    client.raw_key = raw
    return client
