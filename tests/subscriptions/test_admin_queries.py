"""Every console changelist runs the same number of queries for 1 row as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _subscription(shop):
    sub = f.SubscriptionFactory(shop=shop, lines=2)
    f.SubscriptionDiscountFactory(subscription=sub)
    return sub


def _customer(shop):
    customer = f.CustomerFactory(shop=shop)
    f.SubscriptionFactory(customer=customer)
    return customer


def _product(shop):
    product = f.ProductFactory(shop=shop)
    f.VariantFactory.create_batch(2, product=product)
    return product


def _program(shop):
    program = f.SubscriptionProgramFactory(shop=shop)
    f.PlanFactory(program=program)
    program.products.add(f.ProductFactory(shop=shop))
    return program


def _order(shop):
    order = f.OrderFactory(shop=shop)
    f.OrderLineFactory(order=order)
    return order


MAKERS = {
    "subscriptions_subscription": _subscription,
    "subscriptions_customer": _customer,
    "subscriptions_product": _product,
    "subscriptions_subscriptionprogram": _program,
    "subscriptions_discountcode": lambda shop: f.DiscountCodeFactory(shop=shop),
    "subscriptions_order": _order,
    "subscriptions_activitylog": lambda shop: f.ActivityLogFactory(shop=shop),
    "webhooks_outboxevent": lambda shop: f.OutboxEventFactory(shop_id=shop.pk),
    # One shop per staff user: the superuser's view of many shops is measured below.
    "subscriptions_shop": None,
}


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture(params=["staff", "superuser"])
def console_client(request, client):
    shop = f.ShopFactory()
    if request.param == "staff":
        user = f.StaffMembershipFactory(shop=shop).user
    else:
        user = f.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    client.shop = shop
    return client


@pytest.mark.parametrize("url_name", sorted(MAKERS))
def test_changelist_query_count_does_not_grow_with_rows(console_client, url_name):
    shop = console_client.shop
    make = MAKERS[url_name] or (lambda _shop: f.ShopFactory())
    url = reverse(f"admin:{url_name}_changelist")
    make(shop)
    one = _count_queries(console_client, url)
    for _ in range(29):
        make(shop)
    thirty = _count_queries(console_client, url)
    response = console_client.get(url)
    assert len(response.context["cl"].result_list) >= 1
    assert thirty == one, f"{url_name}: {one} queries for 1 row, {thirty} for 30"


def test_subscription_changelist_with_filters_and_search(console_client):
    shop = console_client.shop
    url = reverse("admin:subscriptions_subscription_changelist")
    params = "?status__exact=ACTIVE&q=example&next_billing_date__gte=2000-01-01"
    _subscription(shop)
    one = _count_queries(console_client, url + params)
    for _ in range(29):
        _subscription(shop)
    assert _count_queries(console_client, url + params) == one
