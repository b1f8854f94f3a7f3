"""The Admin GraphQL client: the request on the wire, cost-based throttling from
`extensions.cost`, and retries on THROTTLED, 429 and 5xx (Shopify's documented answers)."""

import pytest

from shopify.client import ShopifyClient, ShopifyError
from tests.shopify.conftest import DOMAIN, THROTTLED, TOKEN, URL, answer, sent

QUERY = "{ shop { name } }"


@pytest.fixture
def client(sleeps):
    return ShopifyClient(DOMAIN, TOKEN)


def test_a_call_posts_the_query_to_the_pinned_version_with_the_token(client, mocked):
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))

    assert client.execute(QUERY) == {"shop": {"name": "Demo Shop"}}

    request = mocked.calls[0].request
    assert request.url == "https://demo-shop.myshopify.com/admin/api/2025-01/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"] == "application/json"
    assert sent(mocked.calls[0]) == {"query": QUERY, "variables": {}}


def test_the_next_call_waits_until_the_bucket_can_pay_for_it(client, mocked, sleeps):
    # 50 points left, the last query cost 250, the bucket refills 100 points a second: 2 s.
    mocked.post(URL, json=answer({"shop": {"name": "A"}}, requested=250, available=50.0, rate=100.0))
    mocked.post(URL, json=answer({"shop": {"name": "A"}}, requested=250, available=1800.0))
    client.execute(QUERY)
    assert sleeps == []
    client.execute(QUERY)
    assert sleeps == [2.0]
    assert len(mocked.calls) == 2


def test_a_full_bucket_sends_without_waiting(client, mocked, sleeps):
    mocked.post(URL, json=answer({"shop": {"name": "A"}}, requested=10, available=1990.0))
    client.execute(QUERY)
    client.execute(QUERY)
    assert sleeps == []


def test_throttled_is_retried_once_the_budget_has_refilled(client, mocked, sleeps):
    mocked.post(URL, json=THROTTLED)  # 100 asked, 20 left, 100/s: 0.8 s, at least 1 s
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))

    assert client.execute(QUERY)["shop"]["name"] == "Demo Shop"
    assert len(mocked.calls) == 2
    assert sleeps == [1.0]


def test_429_waits_for_retry_after(client, mocked, sleeps):
    mocked.post(
        URL, status=429, headers={"Retry-After": "2.0"}, json={"errors": "Exceeded 2 calls per second"}
    )
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))

    assert client.execute(QUERY)["shop"]["name"] == "Demo Shop"
    assert sleeps == [2.0]


def test_5xx_is_retried_with_backoff(client, mocked, sleeps):
    mocked.post(URL, status=502, body="Bad gateway")
    mocked.post(URL, status=503, json={"errors": "Service unavailable"})
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))

    assert client.execute(QUERY)["shop"]["name"] == "Demo Shop"
    assert sleeps == [1.0, 2.0]


def test_a_shop_that_stays_down_is_reported_as_retryable(client, mocked, sleeps):
    mocked.post(URL, status=500, json={"errors": "Internal error"})

    with pytest.raises(ShopifyError) as failed:
        client.execute(QUERY)
    assert failed.value.kind == "unavailable"
    assert failed.value.retryable
    assert failed.value.retry_after is not None
    assert len(mocked.calls) == 4


def test_a_refused_token_is_not_retried(client, mocked, sleeps):
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})

    with pytest.raises(ShopifyError) as failed:
        client.execute(QUERY)
    assert failed.value.kind == "auth"
    assert failed.value.field == "access_token"
    assert not failed.value.retryable
    assert len(mocked.calls) == 1


def test_a_graphql_error_is_a_refusal_not_a_retry(client, mocked, sleeps):
    mocked.post(
        URL,
        json={
            "errors": [{"message": "Field 'nope' doesn't exist on type 'Shop'", "locations": [{"line": 1}]}],
            "extensions": {"cost": {"requestedQueryCost": 1}},
        },
    )
    with pytest.raises(ShopifyError) as failed:
        client.execute("{ shop { nope } }")
    assert failed.value.kind == "refused"
    assert "nope" in failed.value.message
    assert len(mocked.calls) == 1


def test_a_wait_longer_than_a_worker_should_sleep_is_handed_back(client, mocked, sleeps):
    mocked.post(URL, status=429, headers={"Retry-After": "120"}, json={"errors": "Throttled"})

    with pytest.raises(ShopifyError) as failed:
        client.execute(QUERY)
    assert failed.value.kind == "throttled"
    assert failed.value.retry_after.total_seconds() == 120
    assert sleeps == []
