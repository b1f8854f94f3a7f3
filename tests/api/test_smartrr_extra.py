"""The rest of Smartrr's 43 operations: every one is served (no route 404s), ids may be Shopify's
or ours, another shop's ids answer 404, and operations without meaning here answer 422."""

import datetime as dt
from decimal import Decimal

import pytest

from subscriptions.models import ActivityLog, Order, Variant
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(shop):
    customer = f.CustomerFactory(shop=shop, email="ann@example.com", external_id="gid-cust-1")
    product = f.ProductFactory(shop=shop, title="Coffee", external_id="gid-prod-1")
    variant = f.VariantFactory(product=product, sku="COF-1", external_id="gid-var-1", price=Decimal("12.00"))
    subscription = f.SubscriptionFactory(customer=customer, lines=[variant], external_id="gid-sub-1")
    subscription.plan.program.products.add(product)
    paid = f.OrderFactory(subscription=subscription, external_id="gid-ord-1")
    f.OrderLineFactory(order=paid, variant=variant)
    pending = f.OrderFactory(
        subscription=subscription, status=Order.Status.PENDING, paid_at=None, billing_date=dt.date(2030, 1, 1)
    )
    f.ActivityLogFactory(subscription=subscription, action="skipped", description="Skipped")
    return {
        "shop": shop,
        "customer": customer,
        "product": product,
        "variant": variant,
        "subscription": subscription,
        "paid": paid,
        "pending": pending,
        "plan": subscription.plan,
        "program": subscription.plan.program,
    }


def routes(w):
    """(method, url, expected status) for every operation of this module, on `w`'s objects."""
    s, c, o = w["subscription"], w["customer"], w["paid"]
    return [
        ("get", f"/vendor/purchase-state/{s.pk}", 200),
        ("get", f"/vendor/purchase-state/{s.pk}/orders", 200),
        ("get", f"/vendor/purchase-state/{s.pk}/bills", 200),
        ("get", f"/vendor/purchase-state/{s.pk}/events", 200),
        ("get", "/vendor/customer-relationship", 200),
        ("get", f"/vendor/customer-relationship/{c.pk}", 200),
        ("get", f"/vendor/customer-relationship/{c.pk}/payment-methods", 200),
        ("get", f"/vendor/customer-relationship/{c.pk}/referral-link", 200),
        ("put", f"/vendor/customer-relationship/{c.pk}/orgPoints", 200),
        ("post", "/vendor/customer-relationship/import", 422),
        ("get", f"/vendor/customer/{c.pk}/orders", 200),
        ("get", "/vendor/order", 200),
        ("get", f"/vendor/orders/{o.pk}", 200),
        ("post", f"/vendor/order/{o.pk}/open", 409),
        ("delete", f"/vendor/order/{o.pk}", 409),
        ("get", "/vendor/bill", 200),
        ("get", f"/vendor/bill/{o.pk}/history", 200),
        ("post", f"/vendor/bill/{o.pk}/retry", 409),
        ("post", f"/vendor/bill/{o.pk}/cancel", 409),
        ("get", "/vendor/purchasable", 200),
        ("put", "/vendor/purchasable", 200),
        ("get", f"/vendor/purchasable/{w['product'].pk}", 200),
        ("get", "/vendor/purchasable-collection", 200),
        ("get", "/vendor/selling-plan-group", 200),
        ("get", "/vendor/selling-plan-configs", 200),
    ]


def call(api, method, url, w):
    if url.endswith("/orgPoints"):
        return api.put(url, {"points": 5, "reason": "Goodwill"}, format="json")
    if method == "put" and url == "/vendor/purchasable":
        return api.put(url, {"variantId": w["variant"].pk, "price": "13.50"}, format="json")
    if method in ("put", "post"):
        return api.generic(method.upper(), url, "{}", content_type="application/json")
    return getattr(api, method)(url)


def test_every_operation_answers_with_a_real_key(api, world):
    for method, url, expected in routes(world):
        response = call(api, method, url, world)
        assert response.status_code == expected, (method, url, response.status_code, response.content[:300])
        if expected == 422:
            body = response.json()
            assert body["code"] == "not_supported" and body["detail"]


def test_other_shops_ids_are_404(api, world):
    theirs = {"shop": f.ShopFactory()}
    customer = f.CustomerFactory(shop=theirs["shop"], external_id="their-cust")
    product = f.ProductFactory(shop=theirs["shop"])
    subscription = f.SubscriptionFactory(customer=customer, external_id="their-sub")
    order = f.OrderFactory(subscription=subscription, status=Order.Status.PENDING, paid_at=None)
    theirs.update(
        customer=customer,
        product=product,
        subscription=subscription,
        paid=order,
        variant=f.VariantFactory(product=product),
    )
    checked = 0
    for method, url, _ in routes(theirs):
        if not any(ch.isdigit() for ch in url):
            continue
        response = call(api, method, url, theirs)
        assert response.status_code == 404, (method, url, response.content[:300])
        assert response.json()["code"] == "not_found"
        checked += 1
    assert checked >= 14
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    # By Shopify id too.
    assert api.get("/vendor/purchase-state/their-sub").status_code == 404
    assert api.get("/vendor/customer-relationship/their-cust").status_code == 404
    # And in a body.
    other_variant = theirs["variant"]
    response = api.put("/vendor/purchasable", {"variantId": other_variant.pk, "price": "1.00"}, format="json")
    assert response.status_code == 404
    other_variant.refresh_from_db()
    assert other_variant.price == Decimal("20.00")


def test_purchase_state_by_shopify_id_or_ours(api, world):
    s = world["subscription"]
    for ident in (s.pk, "gid-sub-1"):
        body = api.get(f"/vendor/purchase-state/{ident}").json()
        assert body["id"] == s.pk and body["shopifyId"] == "gid-sub-1"
    orders = api.get("/vendor/purchase-state/gid-sub-1/orders").json()
    assert orders["totalCount"] == 2
    assert {o["orderStatus"] for o in orders["data"]} == {"PAID", "PENDING"}
    bills = api.get("/vendor/purchase-state/gid-sub-1/bills").json()["data"]
    assert {b["status"] for b in bills} == {"SUCCESS", "PENDING"}
    events = api.get("/vendor/purchase-state/gid-sub-1/events").json()["data"]
    assert [e["eventType"] for e in events] == ["skipped"]


def test_customer_relationship_routes(api, world):
    c = world["customer"]
    f.CustomerFactory(shop=world["shop"], email="bob@example.com")
    listed = api.get("/vendor/customer-relationship").json()
    assert listed["totalCount"] == 2
    only = api.get("/vendor/customer-relationship", {"filterEquals[email]": "ANN@example.com"}).json()
    assert [r["id"] for r in only["data"]] == [c.pk]
    assert api.get("/vendor/customer-relationship/gid-cust-1").json()["email"] == "ann@example.com"
    methods = api.get(f"/vendor/customer-relationship/{c.pk}/payment-methods").json()["data"]
    assert [m["last4"] for m in methods] == ["4242"]
    orders = api.get(f"/vendor/customer/{c.pk}/orders", {"filterEquals[orderStatus]": "PAID"}).json()
    assert [o["id"] for o in orders["data"]] == [world["paid"].pk]


def test_order_lookup_close_and_open(api, world):
    paid, pending = world["paid"], world["pending"]
    assert api.get("/vendor/orders/gid-ord-1").json()["id"] == paid.pk
    assert api.get("/vendor/order", {"filterEquals[orderStatus]": "bogus"}).status_code == 400

    closed = api.delete(f"/vendor/order/{pending.pk}")
    assert closed.status_code == 200, closed.content
    assert closed.json()["orderStatus"] == "CANCELLED"
    pending.refresh_from_db()
    assert pending.status == Order.Status.CANCELLED
    log = ActivityLog.objects.get(action="order_closed")
    assert log.actor_type == "api" and log.details == {"order_id": pending.pk}

    reopened = api.post(f"/vendor/order/{pending.pk}/open")
    assert reopened.status_code == 200 and reopened.json()["orderStatus"] == "PENDING"

    refused = api.delete(f"/vendor/order/{paid.pk}")
    assert refused.status_code == 409 and refused.json()["code"] == "order_paid"

    history = api.get(f"/vendor/bill/{pending.pk}/history").json()["data"]
    assert [h["event"] for h in history] == ["created", "order_closed", "order_opened"]


def test_bills_list_filters_by_bill_status(api, world):
    bills = api.get("/vendor/bill", {"filterEquals[status]": "SUCCESS"}).json()["data"]
    assert [b["id"] for b in bills] == [world["paid"].pk]
    assert api.get("/vendor/bill", {"filterEquals[status]": "nope"}).status_code == 400


def test_purchasables_and_programs(api, world):
    product, variant, plan, program = world["product"], world["variant"], world["plan"], world["program"]
    listed = api.get("/vendor/purchasable").json()["data"]
    assert [p["id"] for p in listed] == [product.pk]
    assert listed[0]["vnts"][0]["sku"] == "COF-1"
    assert api.get("/vendor/purchasable/gid-prod-1").json()["id"] == product.pk

    updated = api.put(
        "/vendor/purchasable",
        {"shopifyVariantId": "gid-var-1", "price": "9.99", "isAvailable": False},
        format="json",
    )
    assert updated.status_code == 200, updated.content
    variant.refresh_from_db()
    assert (variant.price, variant.available) == (Decimal("9.99"), False)
    assert updated.json()["vnts"][0]["price"] == "9.99"
    bad = api.put("/vendor/purchasable", {"sku": "COF-1"}, format="json")
    assert bad.status_code == 400
    negative = api.put("/vendor/purchasable", {"sku": "COF-1", "price": "-1"}, format="json")
    assert negative.status_code == 400 and negative.json()["errors"][0]["field"] == "price"
    assert Variant.objects.get(pk=variant.pk).price == Decimal("9.99")

    collection = api.get("/vendor/purchasable-collection").json()["data"]
    assert collection[0]["id"] == program.pk
    assert [p["id"] for p in collection[0]["purchasables"]] == [product.pk]
    groups = api.get("/vendor/selling-plan-group").json()["data"]
    assert groups[0]["sellingPlans"][0]["id"] == plan.pk
    assert groups[0]["productIds"] == [product.pk]
    configs = api.get("/vendor/selling-plan-configs").json()["data"]
    assert configs[0]["sellingPlanIds"] == [plan.pk]


def test_resources_are_enforced(shop, make_key, world):
    from rest_framework.test import APIClient

    _, raw = make_key(shop, {"subscriptions": "read"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert client.get("/vendor/purchasable").status_code == 200
    assert client.get("/vendor/order").json()["code"] == "missing_permission:orders"
    assert client.get("/vendor/customer-relationship").json()["code"] == "missing_permission:customers"
    referral = client.get(f"/vendor/customer-relationship/{world['customer'].pk}/referral-link")
    assert referral.json()["code"] == "missing_permission:loyalty"
    assert client.put("/vendor/purchasable", {}, format="json").status_code == 403


def test_retry_a_failed_bill_charges_it_again(api, world):
    subscription = world["subscription"]
    failed = f.OrderFactory(
        subscription=subscription,
        status=Order.Status.FAILED,
        paid_at=None,
        billing_date=dt.date(2029, 6, 1),
        attempt_count=1,
    )
    response = api.post(f"/vendor/bill/{failed.pk}/retry")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "SUCCESS"
    failed.refresh_from_db()
    assert failed.status == Order.Status.PAID and failed.attempt_count == 2
    assert ActivityLog.objects.filter(action="payment_retry", actor_type="api").exists()
    history = api.get(f"/vendor/bill/{failed.pk}/history").json()["data"]
    assert "payment_succeeded" in [h["event"] for h in history]
    assert api.post(f"/vendor/bill/{failed.pk}/retry").json()["code"] == "bill_paid"


def test_cancel_a_failed_bill_gives_up_on_it(api, world):
    failed = f.OrderFactory(
        subscription=world["subscription"],
        status=Order.Status.FAILED,
        paid_at=None,
        billing_date=dt.date(2029, 7, 1),
        attempt_count=2,
        next_retry_date=dt.date(2029, 7, 4),
        failure_reason="The card was declined.",
    )
    response = api.post(f"/vendor/bill/{failed.pk}/cancel")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CANCELLED"
    failed.refresh_from_db()
    assert failed.status == Order.Status.CANCELLED and failed.next_retry_date is None
    assert ActivityLog.objects.filter(action="payment_given_up", actor_type="api").exists()
    history = api.get(f"/vendor/bill/{failed.pk}/history").json()["data"]
    assert "payment_given_up" in [h["event"] for h in history]
    # Given up: neither cancelled again nor retried.
    again = api.post(f"/vendor/bill/{failed.pk}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "bill_cancelled"
    assert api.post(f"/vendor/bill/{failed.pk}/retry").json()["code"] == "bill_cancelled"


def test_only_a_failed_bill_can_be_cancelled(api, world):
    for order in (world["paid"], world["pending"]):
        response = api.post(f"/vendor/bill/{order.pk}/cancel")
        assert response.status_code == 409
        assert response.json()["code"] == f"bill_{order.status}"
        order.refresh_from_db()
        assert order.status in (Order.Status.PAID, Order.Status.PENDING)
