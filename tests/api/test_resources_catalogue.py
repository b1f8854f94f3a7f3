"""/vendor/v1/orders, products, variants, discount-codes and activity."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from subscriptions.models import DiscountCode, Variant
from subscriptions.services.discounts import discount_code_create
from tests import factories as f


def queries_for(api, url) -> int:
    api.get(url)  # warm up: key last-used stamp, rate-limit bucket
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def assert_problem(response, status: int, field: str | None = None, code: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    if code:
        assert body["code"] == code, body
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def ids(api, url):
    response = api.get(url)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# ---------------------------------------------------------------- orders


def test_orders_list_retrieve_and_filters(api, shop):
    sub = f.SubscriptionFactory(shop=shop)
    paid = f.OrderFactory(subscription=sub, created_at=timezone.now() - dt.timedelta(days=3))
    f.OrderLineFactory(order=paid, quantity=2, unit_price=Decimal("5.00"), total=Decimal("10.00"))
    failed = f.OrderFactory(shop=shop, status="failed")
    theirs = f.OrderFactory()

    assert ids(api, "/vendor/v1/orders") == [failed.pk, paid.pk]
    assert ids(api, "/vendor/v1/orders?status=failed") == [failed.pk]
    assert ids(api, f"/vendor/v1/orders?subscription={sub.pk}") == [paid.pk]
    assert ids(api, f"/vendor/v1/orders?customer={failed.customer_id}") == [failed.pk]
    assert ids(api, f"/vendor/v1/orders?created_before={timezone.localdate().isoformat()}") == [paid.pk]
    assert ids(api, "/vendor/v1/orders?ordering=created_at") == [paid.pk, failed.pk]

    body = api.get(f"/vendor/v1/orders/{paid.pk}").json()
    assert (body["total"], body["currency"], body["status"]) == ("20.00", "USD", "paid")
    assert [(x["quantity"], x["unit_price"], x["total"]) for x in body["lines"]] == [(2, "5.00", "10.00")]
    assert_problem(api.get(f"/vendor/v1/orders/{theirs.pk}"), 404, code="not_found")
    assert_problem(api.get("/vendor/v1/orders?created_after=last-week"), 400, "created_after")
    assert_problem(api.get("/vendor/v1/orders?status=shipped"), 400, "status")
    assert api.post("/vendor/v1/orders", {}, format="json").status_code == 405


def test_orders_constant_queries(api, shop):
    def make(n):
        for _ in range(n):
            f.OrderLineFactory(order=f.OrderFactory(shop=shop))

    make(1)
    one = queries_for(api, "/vendor/v1/orders?page_size=250")
    make(49)
    assert queries_for(api, "/vendor/v1/orders?page_size=250") == one


def test_orders_need_the_orders_permission(shop, make_key):
    _, raw = make_key(shop, {"subscriptions": "write"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert_problem(client.get("/vendor/v1/orders"), 403)


# ---------------------------------------------------------------- catalogue


def test_products_with_variants(api, shop):
    product = f.ProductFactory(shop=shop, title="Coffee")
    f.VariantFactory(product=product, title="1kg", sku="C-1KG", price=Decimal("30"))
    f.VariantFactory(product=product, title="250g", sku="C-250", price=Decimal("9.5"))
    f.ProductFactory(shop=shop, title="Tea", active=False)
    theirs = f.ProductFactory()

    response = api.get("/vendor/v1/products")
    assert [p["title"] for p in response.json()["results"]] == ["Coffee", "Tea"]
    assert [p["title"] for p in api.get("/vendor/v1/products?active=false").json()["results"]] == ["Tea"]
    body = api.get(f"/vendor/v1/products/{product.pk}").json()
    assert [(v["sku"], v["price"], v["currency"]) for v in body["variants"]] == [
        ("C-1KG", "30.00", "USD"),
        ("C-250", "9.50", "USD"),
    ]
    assert_problem(api.get(f"/vendor/v1/products/{theirs.pk}"), 404)

    response = api.patch(f"/vendor/v1/products/{product.pk}", {"title": "Beans"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Beans"
    assert_problem(
        api.patch(f"/vendor/v1/products/{product.pk}", {"title": "  "}, format="json"), 400, "title"
    )


def test_variants_filter_and_update(api, shop):
    a = f.VariantFactory(shop=shop, sku="A-1")
    b = f.VariantFactory(shop=shop, sku="B-1", available=False)
    theirs = f.VariantFactory()

    assert ids(api, "/vendor/v1/variants") == [a.pk, b.pk]
    assert ids(api, "/vendor/v1/variants?sku=a-1") == [a.pk]
    assert ids(api, "/vendor/v1/variants?available=false") == [b.pk]
    assert ids(api, "/vendor/v1/variants?ordering=-sku") == [b.pk, a.pk]
    assert_problem(api.get("/vendor/v1/variants?available=maybe"), 400, "available")

    response = api.patch(
        f"/vendor/v1/variants/{a.pk}", {"price": "24.99", "inventory": 0, "archived": True}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["price"], body["inventory"], body["archived"], body["purchasable"]) == (
        "24.99",
        0,
        True,
        False,
    )
    a.refresh_from_db()
    assert a.price == Decimal("24.99")
    assert_problem(api.patch(f"/vendor/v1/variants/{a.pk}", {"price": "-1"}, format="json"), 400, "price")
    assert_problem(api.patch(f"/vendor/v1/variants/{a.pk}", {"sku": "X"}, format="json"), 400, "sku")
    assert_problem(api.patch(f"/vendor/v1/variants/{theirs.pk}", {"price": "1"}, format="json"), 404)
    assert Variant.objects.get(pk=theirs.pk).price == Decimal("20.00")


def test_catalogue_constant_queries(api, shop):
    def make(n):
        for _ in range(n):
            product = f.ProductFactory(shop=shop)
            f.VariantFactory(product=product)
            f.VariantFactory(product=product)

    make(1)
    products = queries_for(api, "/vendor/v1/products?page_size=250")
    variants = queries_for(api, "/vendor/v1/variants?page_size=250")
    make(49)
    assert queries_for(api, "/vendor/v1/products?page_size=250") == products
    assert queries_for(api, "/vendor/v1/variants?page_size=250") == variants


# ---------------------------------------------------------------- discount codes


def test_discount_codes_create_list_update(api, shop):
    response = api.post(
        "/vendor/v1/discount-codes",
        {"code": "welcome5", "kind": "fixed", "value": "5", "duration": "recurring", "recurring_count": 3},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["value"], body["currency"], body["recurring_count"]) == (
        "WELCOME5",
        "5.00",
        "USD",
        3,
    )
    f.DiscountCodeFactory(shop=shop, code="OFF", active=False)
    theirs = f.DiscountCodeFactory()

    assert [c["code"] for c in api.get("/vendor/v1/discount-codes").json()["results"]] == ["OFF", "WELCOME5"]
    assert [c["code"] for c in api.get("/vendor/v1/discount-codes?active=true").json()["results"]] == [
        "WELCOME5"
    ]

    ends = (timezone.now() + dt.timedelta(days=30)).isoformat()
    response = api.patch(
        f"/vendor/v1/discount-codes/{body['id']}",
        {"active": False, "ends_at": ends, "usage_limit": 10},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["active"], response.json()["usage_limit"]) == (False, 10)
    assert_problem(
        api.patch(f"/vendor/v1/discount-codes/{body['id']}", {"value": "50"}, format="json"), 400, "value"
    )
    assert_problem(api.get(f"/vendor/v1/discount-codes/{theirs.pk}"), 404)


@pytest.mark.parametrize(
    "payload, status, field, code",
    [
        ({"code": "TAKEN", "value": "10"}, 409, "code", "code_taken"),
        ({"code": "BIG", "value": "150"}, 409, "value", "invalid_value"),
        (
            {"code": "REC", "value": "10", "duration": "recurring"},
            409,
            "recurring_count",
            "recurring_count_required",
        ),
        ({"code": "X", "value": "ten"}, 400, "value", "validation_error"),
        ({"code": "X", "value": "1", "ends_at": "soon"}, 400, "ends_at", "validation_error"),
        ({"code": "X", "value": "1", "kind": "bogo"}, 400, "kind", "validation_error"),
        ({"code": "X", "value": "1", "extra": 1}, 400, "extra", "validation_error"),
    ],
)
def test_discount_code_refusals(api, shop, payload, status, field, code):
    f.DiscountCodeFactory(shop=shop, code="TAKEN")
    assert_problem(api.post("/vendor/v1/discount-codes", payload, format="json"), status, field, code)


def test_discount_code_update_rules(api, shop):
    used = f.DiscountCodeFactory(shop=shop, times_used=5)
    url = f"/vendor/v1/discount-codes/{used.pk}"
    assert_problem(
        api.patch(url, {"usage_limit": 3}, format="json"), 409, "usage_limit", "usage_limit_too_low"
    )
    start = timezone.now() + dt.timedelta(days=5)
    bad = {"starts_at": start.isoformat(), "ends_at": (start - dt.timedelta(days=1)).isoformat()}
    assert_problem(api.patch(url, bad, format="json"), 409, "ends_at", "invalid_dates")


def test_discount_service_normalises_the_code(shop):
    from subscriptions.actors import SYSTEM

    code = discount_code_create(shop=shop, actor=SYSTEM, code=" spring ", value=Decimal("15"))
    assert DiscountCode.objects.get(pk=code.pk).code == "SPRING"


def test_discount_codes_need_the_discounts_permission(shop, make_key):
    _, raw = make_key(shop, {"subscriptions": "write", "discounts": "read"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert client.get("/vendor/v1/discount-codes").status_code == 200
    assert_problem(client.post("/vendor/v1/discount-codes", {"code": "A", "value": "1"}, format="json"), 403)


def test_discount_codes_constant_queries(api, shop):
    f.DiscountCodeFactory(shop=shop)
    one = queries_for(api, "/vendor/v1/discount-codes?page_size=250")
    f.DiscountCodeFactory.create_batch(49, shop=shop)
    assert queries_for(api, "/vendor/v1/discount-codes?page_size=250") == one


# ---------------------------------------------------------------- activity


def test_activity_filters(api, shop):
    sub = f.SubscriptionFactory(shop=shop)
    old = f.ActivityLogFactory(subscription=sub, created_at=timezone.now() - dt.timedelta(days=5))
    skip = f.ActivityLogFactory(subscription=sub, action="skipped", actor_type="api", actor_name="helpdesk")
    other = f.ActivityLogFactory(shop=shop, action="customer_created", subscription=None)
    f.ActivityLogFactory()  # another shop

    assert ids(api, "/vendor/v1/activity") == [other.pk, skip.pk, old.pk]
    assert ids(api, f"/vendor/v1/activity?subscription={sub.pk}") == [skip.pk, old.pk]
    assert ids(api, f"/vendor/v1/activity?customer={other.customer_id}") == [other.pk]
    assert ids(api, "/vendor/v1/activity?actor_type=api") == [skip.pk]
    assert ids(api, "/vendor/v1/activity?action=skipped") == [skip.pk]
    since = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert ids(api, f"/vendor/v1/activity?since={since}") == [other.pk, skip.pk]
    row = api.get("/vendor/v1/activity?action=skipped").json()["results"][0]
    assert (row["actor"], row["subscription_id"], row["customer_id"]) == (
        "api:helpdesk",
        sub.pk,
        sub.customer_id,
    )
    assert_problem(api.get("/vendor/v1/activity?actor_type=robot"), 400, "actor_type")
    assert_problem(api.get("/vendor/v1/activity?since=2025-02-30"), 400, "since")


def test_activity_constant_queries(api, shop):
    sub = f.SubscriptionFactory(shop=shop)
    f.ActivityLogFactory(subscription=sub)
    one = queries_for(api, "/vendor/v1/activity?page_size=250")
    f.ActivityLogFactory.create_batch(49, subscription=sub)
    assert queries_for(api, "/vendor/v1/activity?page_size=250") == one


def test_catalogue_services_refuse_what_the_api_cannot_send(shop):
    from subscriptions.actors import SYSTEM
    from subscriptions.errors import DomainError
    from subscriptions.services.catalogue import product_update, variant_update

    variant = f.VariantFactory(shop=shop)
    with pytest.raises(DomainError) as err:
        variant_update(variant=variant, actor=SYSTEM, price=Decimal("-1"))
    assert err.value.field == "price"
    with pytest.raises(DomainError) as err:
        product_update(product=variant.product, actor=SYSTEM, title=" ")
    assert err.value.field == "title"
    with pytest.raises(DomainError) as err:
        variant_update(variant=variant, actor=SYSTEM, sku="NEW")
    assert err.value.code == "unknown_field"
