"""Shopify fixtures: a shop connected to its store (the connect call answered by a recorded
`{ shop { name } }` response), Shopify's GraphQL answers with their `extensions.cost`, and signed
webhooks."""

import base64
import hashlib
import hmac
import json

import pytest
import responses

from integrations.services import integration_connect
from tests import factories as f

DOMAIN = "demo-shop.myshopify.com"
TOKEN = "shpat_0123456789abcdef"
APP_SECRET = "shpss_custom_app_secret"
URL = f"https://{DOMAIN}/admin/api/2025-01/graphql.json"


def cost(requested=10, available=1990.0, maximum=2000.0, rate=100.0) -> dict:
    """Shopify's `extensions` block, as documented (GraphQL Admin API rate limits)."""
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": rate,
            },
        }
    }


def answer(data: dict, **cost_kwargs) -> dict:
    return {"data": data, "extensions": cost(**cost_kwargs)}


THROTTLED = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ],
    "extensions": cost(requested=100, available=20.0),
}


def sent(call) -> dict:
    return json.loads(call.request.body)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps(monkeypatch):
    """The client's waits, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("shopify.client.time.sleep", waited.append)
    return waited


@pytest.fixture
def shop(db):
    return f.ShopFactory(name="Demo", currency="USD", timezone="America/New_York")


def connect(shop, mocked, *, domain=DOMAIN, secret=APP_SECRET):
    url = f"https://{domain}/admin/api/2025-01/graphql.json"
    mocked.post(url, json=answer({"shop": {"name": "Demo Shop"}}))
    integration = integration_connect(
        shop=shop,
        partner_key="shopify",
        credentials={"shop_domain": domain, "access_token": TOKEN, "api_secret": secret},
    )
    mocked.calls.reset()
    mocked.reset()
    return integration


@pytest.fixture
def store(shop, mocked):
    """The shop connected to demo-shop.myshopify.com. Tests run inside a transaction that never
    commits, so the catalogue import that a commit would start does not run unless a test asks."""
    return connect(shop, mocked)
