"""The portal pages read in a constant number of queries: a customer with more subscriptions, lines,
skips, discounts, orders and a shop with more products must not cost more queries (an N+1 in a
template or a selector fails here), and the pages still show every one of those rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    DiscountCodeFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    SkippedDateFactory,
    SubscriptionDiscountFactory,
    SubscriptionFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

# Session, customer, the subscription with its lines, skips, the program's plans and its discounts,
# the shop's variants, the subscription's orders (the page shows no order lines).
SUBSCRIPTION_PAGE_MAX = 9
OVERVIEW_MAX = 5  # session, customer, subscriptions, their lines, their skips
ORDERS_MAX = 4  # session, customer, orders, their lines


def _variants(shop, n):
    return [VariantFactory(shop=shop, product=ProductFactory(shop=shop), title=f"Size {i}") for i in range(n)]


def _subscription_with_everything(customer, variants, plan=None):
    extra = {"plan": plan} if plan is not None else {}
    sub = SubscriptionFactory(customer=customer, lines=variants, **extra)
    SkippedDateFactory(subscription=sub)
    SubscriptionDiscountFactory(subscription=sub, code=DiscountCodeFactory(shop=customer.shop))
    for _ in range(2):
        order = OrderFactory(subscription=sub)
        for variant in variants:
            OrderLineFactory(order=order, variant=variant)
    return sub


def _count(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), response.content.decode()


def test_subscription_page_queries_do_not_grow_with_lines_orders_and_variants(signed_in, customer):
    small = _subscription_with_everything(customer, _variants(customer.shop, 1))
    small_count, _ = _count(signed_in, f"/account/subscriptions/{small.pk}/")

    variants = _variants(customer.shop, 6)
    big = _subscription_with_everything(customer, variants[:4], plan=small.plan)
    for _ in range(3):
        _subscription_with_everything(customer, variants[4:])
    big_count, html = _count(signed_in, f"/account/subscriptions/{big.pk}/")

    assert big_count == small_count <= SUBSCRIPTION_PAGE_MAX
    # Every line has its swap select offering every other variant, and the add select all of them.
    for line in big.lines.all():
        swap = html.split(f'id="swap-{line.pk}">', 1)[1].split("</select>", 1)[0]
        assert f'<option value="{line.variant_id}">' not in swap
        assert swap.count("<option") == 7 - 1  # the shop's 7 variants but the line's own
    add = html.split('id="add-variant">', 1)[1].split("</select>", 1)[0]
    assert add.count("<option") == 7
    assert f'<option value="{variants[0].pk}">{variants[0].product.title} — Size 0 (20.00)</option>' in add


def test_overview_queries_do_not_grow_with_subscriptions(signed_in, customer):
    _subscription_with_everything(customer, _variants(customer.shop, 1))
    small_count, _ = _count(signed_in, "/account/")

    variants = _variants(customer.shop, 3)
    subs = [_subscription_with_everything(customer, variants) for _ in range(4)]
    big_count, html = _count(signed_in, "/account/")

    assert big_count == small_count <= OVERVIEW_MAX
    for sub in subs:
        assert f'id="sub-{sub.pk}"' in html


def test_orders_page_queries_do_not_grow_with_orders(signed_in, customer):
    _subscription_with_everything(customer, _variants(customer.shop, 1))
    small_count, _ = _count(signed_in, "/account/orders/")

    variants = _variants(customer.shop, 3)
    for _ in range(3):
        _subscription_with_everything(customer, variants)
    big_count, _ = _count(signed_in, "/account/orders/")

    assert big_count == small_count <= ORDERS_MAX


def test_subscription_page_shows_a_changed_price_and_address_at_once(signed_in, customer):
    variant = _variants(customer.shop, 1)[0]
    sub = _subscription_with_everything(customer, _variants(customer.shop, 1))
    url = f"/account/subscriptions/{sub.pk}/"
    assert "(20.00)</option>" in signed_in.get(url).content.decode()

    variant.price = "21.50"
    variant.save()
    sub.shipping_address.city = "Lisbon"
    sub.shipping_address.save()
    html = signed_in.get(url).content.decode()

    assert f'<option value="{variant.pk}">{variant.product.title} — Size 0 (21.50)</option>' in html
    assert 'name="city" value="Lisbon"' in html
