"""No N+1: the helpdesk lookup and every list endpoint run as many queries for 50 customers,
subscriptions and lines as for 1."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from subscriptions.models import ActivityLog
from tests import factories as f
from tests.api.endpoint_catalogue import list_endpoints, make_world, send
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db
# Frozen so the key's last-used stamp and the rate-limit window do not change between requests.
NOW = dt.datetime(2030, 6, 1, 12, 0, 5, tzinfo=dt.UTC)
MORE = 49


def _grow(world, n: int) -> None:
    """n more of everything a list shows: customers with subscriptions of two lines and an order,
    subscriptions and orders of the world's customer, lines, events, webhooks, discount codes."""
    shop, customer, subscription = world.shop, world.customer, world.subscription
    for i in range(n):
        other = f.CustomerFactory(shop=shop, email=f"grown{i}@example.com", last_name=f"Grown{i}")
        theirs = f.SubscriptionFactory(customer=other, lines=2)
        f.OrderLineFactory(order=f.OrderFactory(subscription=theirs))
        f.SubscriptionFactory(customer=customer, lines=2)
        f.OrderLineFactory(order=f.OrderFactory(subscription=subscription))
        f.SubscriptionLineFactory(subscription=subscription)
        f.ActivityLogFactory(subscription=subscription)
        f.DiscountCodeFactory(shop=shop)
        WebhookEndpoint.objects.create(shop_id=shop.pk, url=f"https://hooks.example.com/{i}", events=[])


def _count(api, ep, world) -> tuple[int, int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = send(api, ep, world)
    return response.status_code, len(queries), [q["sql"] for q in queries.captured_queries]


def test_every_list_endpoint_runs_a_constant_number_of_queries(api, shop):
    with time_machine.travel(NOW, tick=False):
        world = make_world(shop)
        f.ActivityLogFactory(subscription=world.subscription)  # one row in every list, not zero
        lists = list_endpoints()
        for ep in lists:
            send(api, ep, world)  # warm-up: last-used stamp, rate-limit counter row
        small = {ep.id: _count(api, ep, world) for ep in lists}
        _grow(world, MORE)
        assert ActivityLog.objects.filter(subscription=world.subscription).count() >= MORE
        large = {ep.id: _count(api, ep, world) for ep in lists}

    assert all(status < 500 for status, _, _ in small.values()), small
    differing = {
        ep_id: (small[ep_id][1], large[ep_id][1])
        for ep_id in small
        if small[ep_id][1] != large[ep_id][1] or small[ep_id][0] != large[ep_id][0]
    }
    assert differing == {}, "\n".join(
        f"{ep_id}: {n1} queries with 1, {n50} with 50; extra: {large[ep_id][2][n1 : n1 + 3]}"
        for ep_id, (n1, n50) in differing.items()
    )


@pytest.mark.parametrize("text", ["example.com", "Shared", "Shared Name"])
def test_formatted_lookup_runs_a_constant_number_of_queries(api, shop, text):
    def customer_with_subscriptions(i):
        customer = f.CustomerFactory(
            shop=shop, email=f"lookup{i}@example.com", first_name="Shared", last_name="Name"
        )
        f.SubscriptionFactory(customer=customer, lines=3)
        f.SubscriptionFactory(customer=customer, lines=1)
        return customer

    with time_machine.travel(NOW, tick=False):
        customer_with_subscriptions(0)
        url = "/vendor/order/formatted"
        api.get(url, {"filterLike[emailOrName]": text})  # warm-up
        with CaptureQueriesContext(connection) as one:
            first = api.get(url, {"filterLike[emailOrName]": text})
        for i in range(1, 50):
            customer_with_subscriptions(i)
        with CaptureQueriesContext(connection) as fifty:
            second = api.get(url, {"filterLike[emailOrName]": text})

    assert first.status_code == 200 and second.status_code == 200, second.content[:300]
    assert len(first.json()["data"]) == 1 and len(second.json()["data"]) > 1
    assert len(one) == len(fifty), [q["sql"] for q in fifty.captured_queries]


def test_formatted_lookup_by_exact_email_runs_a_constant_number_of_queries(api, shop):
    customer = f.CustomerFactory(shop=shop, email="exact@example.com")
    f.SubscriptionFactory(customer=customer, lines=1)
    url = "/vendor/order/formatted?filterLike[emailOrName]=exact@example.com"
    with time_machine.travel(NOW, tick=False):
        api.get(url)
        with CaptureQueriesContext(connection) as one:
            api.get(url)
        for _ in range(49):
            f.SubscriptionFactory(customer=customer, lines=3)
        with CaptureQueriesContext(connection) as fifty:
            response = api.get(url)
    assert response.status_code == 200 and len(response.json()["data"][0]["sts"]) == 50
    assert len(one) == len(fifty), [q["sql"] for q in fifty.captured_queries]
