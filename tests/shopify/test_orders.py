"""Each successful renewal becomes a Shopify order (`orderCreate`), after the charge has committed:
lines at the charged prices, the discount, the shipping address, a paid transaction and tags naming
the subscription. The Shopify id and name are kept and shown; a failure is retried and shown, and
never charges again."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import Integration
from integrations.services import api_key_create, integration_set_events
from shopify.customers import CUSTOMER_BY_EMAIL
from shopify.orders import ORDER_BY_TAG, ORDER_CREATE
from subscriptions.models import Customer, Order, PaymentAttempt
from subscriptions.services import billing
from tests import factories as f
from tests.shopify.conftest import THROTTLED, URL, answer, cost, sent
from webhooks import engine
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db
RUN = dt.date(2025, 2, 10)
NO_ORDER = answer({"orders": {"nodes": []}})
CREATED = answer(
    {
        "orderCreate": {
            "userErrors": [],
            "order": {
                "id": "gid://shopify/Order/5531207385331",
                "legacyResourceId": "5531207385331",
                "name": "#1001",
                "customer": {"id": "gid://shopify/Customer/7001", "legacyResourceId": "7001"},
            },
        }
    }
)


@pytest.fixture
def sub(shop):
    customer = f.CustomerFactory(
        shop=shop, email="rosa@example.com", first_name="Rosa", last_name="Diaz", external_id="7001"
    )
    address = f.AddressFactory(
        customer=customer,
        first_name="Rosa",
        last_name="Diaz",
        line1="1 Main St",
        line2="Apt 2",
        city="Albany",
        province="NY",
        postal_code="12207",
        country="US",
    )
    variant = f.VariantFactory(
        shop=shop, sku="HB-250", price=Decimal("20.00"), external_id="642667041472713922"
    )
    sub = f.SubscriptionFactory(
        customer=customer,
        shipping_address=address,
        lines=[variant],
        lines__quantity=2,
        next_billing_date=RUN,
        anchor_day=10,
    )
    f.SubscriptionDiscountFactory(subscription=sub, code=f.DiscountCodeFactory(shop=shop, code="SAVE10"))
    return sub


def _run_billing(shop, capture):
    with capture(execute=True):
        billing.shop_run_billing(shop=shop, run_date=RUN)
    return Order.objects.get(shop=shop)


def _delivery():
    return Delivery.objects.get(destination_kind="integration")


def test_a_renewal_ends_in_a_recorded_order_create(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=CREATED)

    order = _run_billing(shop, django_capture_on_commit_callbacks)

    assert order.status == Order.Status.PAID
    lookup, create = mocked.calls
    assert sent(lookup) == {
        "query": ORDER_BY_TAG,
        "variables": {"query": f"tag:'subscription-order-{order.pk}'"},
    }
    body = sent(create)
    assert body["query"] == ORDER_CREATE
    assert body["variables"] == {
        "order": {
            "currency": "USD",
            "lineItems": [
                {
                    "quantity": 2,
                    "priceSet": {"shopMoney": {"amount": "20.00", "currencyCode": "USD"}},
                    "variantId": "gid://shopify/ProductVariant/642667041472713922",
                }
            ],
            "customer": {"toAssociate": {"id": "gid://shopify/Customer/7001"}},
            "email": "rosa@example.com",
            "financialStatus": "PAID",
            "transactions": [
                {
                    "kind": "SALE",
                    "status": "SUCCESS",
                    "gateway": "subscriptions",
                    "amountSet": {"shopMoney": {"amount": "36.00", "currencyCode": "USD"}},
                }
            ],
            "tags": ["Subscription", f"subscription-{sub.pk}", f"subscription-order-{order.pk}"],
            "sourceIdentifier": str(order.pk),
            "note": f"Renewal of subscription #{sub.pk} due 2025-02-10",
            "discountCode": {
                "itemFixedDiscountCode": {
                    "code": "SAVE10",
                    "amountSet": {"shopMoney": {"amount": "4.00", "currencyCode": "USD"}},
                }
            },
            "shippingAddress": {
                "firstName": "Rosa",
                "lastName": "Diaz",
                "address1": "1 Main St",
                "address2": "Apt 2",
                "city": "Albany",
                "zip": "12207",
                "countryCode": "US",
                "provinceCode": "NY",
            },
        },
        "options": {"sendReceipt": True, "inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
    }
    assert (order.external_id, order.shopify_order_name) == ("5531207385331", "#1001")
    assert _delivery().status == Delivery.Status.SUCCEEDED


def test_the_shopify_order_is_shown_in_console_api_and_portal(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=CREATED)
    order = _run_billing(shop, django_capture_on_commit_callbacks)

    staff = Client()
    staff.force_login(f.StaffMembershipFactory(shop=shop).user)
    assert "#1001" in staff.get("/admin/subscriptions/order/").content.decode()
    assert "#1001" in staff.get(f"/admin/subscriptions/order/{order.pk}/change/").content.decode()

    _, raw = api_key_create(shop=shop, token_nickname="helpdesk", permissions={"orders": "read"})
    api = APIClient()
    api.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    found = api.get(f"/vendor/v1/orders/{order.pk}").json()
    assert (found["external_id"], found["shopify_order_name"]) == ("5531207385331", "#1001")
    by_shopify_id = api.get("/vendor/orders/5531207385331").json()
    assert by_shopify_id["shopifyOrderName"] == "#1001"

    portal = Client()
    session = portal.session
    session["portal_customer_id"] = sub.customer_id
    session["portal_shop_id"] = shop.pk
    session.save()
    assert "#1001" in portal.get("/account/orders/").content.decode()


def test_a_customer_shopify_knows_by_email_is_matched_and_remembered(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    Customer.objects.filter(pk=sub.customer_id).update(external_id="")
    mocked.post(URL, json=NO_ORDER)
    mocked.post(
        URL,
        json=answer(
            {
                "customers": {
                    "nodes": [
                        {
                            "id": "gid://shopify/Customer/8123",
                            "legacyResourceId": "8123",
                            "email": "Rosa@Example.com",
                            "firstName": "Rosa",
                            "lastName": "Diaz",
                            "phone": None,
                        }
                    ]
                }
            }
        ),
    )
    mocked.post(URL, json=CREATED)
    _run_billing(shop, django_capture_on_commit_callbacks)

    search = sent(mocked.calls[1])
    assert search == {"query": CUSTOMER_BY_EMAIL, "variables": {"query": "email:'rosa@example.com'"}}
    assert sent(mocked.calls[2])["variables"]["order"]["customer"] == {
        "toAssociate": {"id": "gid://shopify/Customer/8123"}
    }
    assert Customer.objects.get(pk=sub.customer_id).external_id == "8123"
    assert Customer.objects.filter(shop=shop).count() == 1


def test_a_customer_new_to_shopify_is_upserted_by_email(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    Customer.objects.filter(pk=sub.customer_id).update(external_id="")
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=answer({"customers": {"nodes": []}}))
    mocked.post(URL, json=CREATED)
    _run_billing(shop, django_capture_on_commit_callbacks)

    assert sent(mocked.calls[2])["variables"]["order"]["customer"] == {
        "toUpsert": {"email": "rosa@example.com", "firstName": "Rosa", "lastName": "Diaz"}
    }
    assert Customer.objects.get(pk=sub.customer_id).external_id == "7001"


def test_a_failure_is_retried_shown_and_never_charges_again(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, status=503, json={"errors": "Service unavailable"})
    order = _run_billing(shop, django_capture_on_commit_callbacks)

    delivery = _delivery()
    assert delivery.status == Delivery.Status.PENDING  # to be tried again later
    assert delivery.next_attempt_at is not None
    integration = Integration.objects.get(shop=shop, partner="shopify")
    assert f"Order #{order.pk}" in integration.last_error and "503" in integration.last_error
    assert order.external_id == ""
    staff = Client()
    staff.force_login(f.StaffMembershipFactory(shop=shop).user)
    assert "503" in staff.get("/admin/integrations/integration/").content.decode()

    # Later: Shopify is back. The order is created once; the customer was charged once.
    mocked.reset()
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=CREATED)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
    engine.deliver(delivery.pk)
    order.refresh_from_db()
    assert order.shopify_order_name == "#1001"
    assert PaymentAttempt.objects.filter(order=order).count() == 1
    billing.shop_run_billing(shop=shop, run_date=RUN)
    assert PaymentAttempt.objects.filter(order__subscription=sub).count() == 1


def test_throttled_order_create_waits_and_succeeds(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=THROTTLED)
    mocked.post(URL, json=CREATED)
    order = _run_billing(shop, django_capture_on_commit_callbacks)
    assert order.shopify_order_name == "#1001"
    assert sleeps  # waited for the bucket
    assert [sent(c)["query"] for c in mocked.calls] == [ORDER_BY_TAG, ORDER_CREATE, ORDER_CREATE]


def test_user_errors_fail_the_delivery_with_shopifys_message(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=NO_ORDER)
    mocked.post(
        URL,
        json=answer(
            {
                "orderCreate": {
                    "userErrors": [
                        {
                            "field": ["order", "lineItems", "0", "variantId"],
                            "message": "Variant does not exist",
                        }
                    ],
                    "order": None,
                }
            }
        ),
    )
    _run_billing(shop, django_capture_on_commit_callbacks)
    delivery = _delivery()
    assert delivery.status == Delivery.Status.FAILED
    assert "Variant does not exist" in delivery.last_error


def test_a_refused_token_holds_the_orders_until_the_connection_is_fixed(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    _run_billing(shop, django_capture_on_commit_callbacks)
    assert _delivery().status == Delivery.Status.PAUSED
    assert Integration.objects.get(shop=shop, partner="shopify").state == Integration.State.NEEDS_ATTENTION


def test_an_order_shopify_already_has_is_recorded_not_created_again(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(
        URL,
        json=answer(
            {
                "orders": {
                    "nodes": [{"id": "gid://shopify/Order/99", "legacyResourceId": "99", "name": "#1000"}]
                }
            }
        ),
    )
    order = _run_billing(shop, django_capture_on_commit_callbacks)
    assert [sent(c)["query"] for c in mocked.calls] == [ORDER_BY_TAG]
    assert (order.external_id, order.shopify_order_name) == ("99", "#1000")


def test_a_replayed_delivery_does_not_create_a_second_order(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=CREATED)
    _run_billing(shop, django_capture_on_commit_callbacks)
    mocked.calls.reset()
    delivery = _delivery()
    engine.replay(Delivery.objects.filter(pk=delivery.pk))
    engine.deliver(delivery.pk)
    assert len(mocked.calls) == 0
    assert Order.objects.get(shop=shop).shopify_order_name == "#1001"


def test_a_shop_that_keeps_orders_here_sends_none(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    integration_set_events(integration=store, events=[])
    order = _run_billing(shop, django_capture_on_commit_callbacks)
    assert order.status == Order.Status.PAID
    assert len(mocked.calls) == 0
    assert not Delivery.objects.filter(destination_kind="integration").exists()


def test_another_shops_renewal_never_reaches_this_store(
    store, shop, mocked, sleeps, django_capture_on_commit_callbacks
):
    other = f.SubscriptionFactory(next_billing_date=RUN, anchor_day=10)
    with django_capture_on_commit_callbacks(execute=True):
        billing.shop_run_billing(shop=other.shop, run_date=RUN)
    assert Order.objects.get(shop=other.shop).status == Order.Status.PAID
    assert len(mocked.calls) == 0


def test_a_long_throttle_goes_back_to_the_engine_with_shopifys_wait(
    store, shop, sub, mocked, sleeps, django_capture_on_commit_callbacks
):
    slow = {**THROTTLED, "extensions": cost(requested=1000, available=0.0, rate=50.0)}  # 20 s to refill
    mocked.post(URL, json=NO_ORDER)
    mocked.post(URL, json=slow)
    before = timezone.now()
    order = _run_billing(shop, django_capture_on_commit_callbacks)

    delivery = _delivery()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.last_status_code == 429
    assert delivery.next_attempt_at >= before + dt.timedelta(seconds=20)
    assert sleeps == []  # not slept through in the worker
    assert order.external_id == ""
