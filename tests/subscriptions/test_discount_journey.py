"""A LoyaltyLion-style code from end to end: created through the vendor API, applied by the
customer in the portal, then three renewals, for each duration kind; scope, usage limit and expiry
refused next to the portal's field."""

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from integrations.services import api_key_create
from subscriptions.models import DiscountCode, Order
from subscriptions.services import billing
from tests import factories as f

pytestmark = pytest.mark.django_db
D = dt.date
RENEWALS = [D(2025, 2, 10), D(2025, 3, 10), D(2025, 4, 10)]


def _api(shop):
    _, raw = api_key_create(shop=shop, token_nickname="LoyaltyLion", permissions={"discounts": "write"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    return client


def _portal(client, customer):
    session = client.session
    session["portal_customer_id"] = customer.pk
    session["portal_shop_id"] = customer.shop_id
    session.save()
    return client


def _sub(shop, customer=None):
    customer = customer or f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token="tok_success")
    variant = f.VariantFactory(shop=shop, price=Decimal("20.00"))
    return f.SubscriptionFactory(
        customer=customer,
        payment_method=method,
        lines=[variant],
        next_billing_date=RENEWALS[0],
        anchor_day=10,
    )


def _apply_in_portal(client, sub, code):
    return client.post(f"/account/subscriptions/{sub.pk}/discount/", {"code": code})


def _renewal_totals(sub):
    orders = [billing.subscription_renew(subscription=sub, run_date=date) for date in RENEWALS]
    assert all(order.status == Order.Status.PAID for order in orders)
    return [(order.subtotal, order.discount_total, order.total) for order in orders]


FULL = (Decimal("40.00"), Decimal("0.00"), Decimal("40.00"))  # two units at 20.00
OFF_25 = (Decimal("40.00"), Decimal("10.00"), Decimal("30.00"))


@pytest.mark.parametrize(
    "duration,extra,expected",
    [
        ("first_payment", {}, [OFF_25, FULL, FULL]),
        ("recurring", {"recurring_count": 2}, [OFF_25, OFF_25, FULL]),
        ("all", {}, [OFF_25, OFF_25, OFF_25]),
    ],
)
def test_a_code_through_three_renewals(client, shop, duration, extra, expected):
    sub = _sub(shop)
    sub.lines.update(quantity=2)
    created = _api(shop).post(
        "/vendor/v1/discount-codes",
        {
            "code": "lion25",
            "kind": "percentage",
            "value": "25",
            "applies_to": "subscription",
            "duration": duration,
        }
        | extra,
        format="json",
    )
    assert created.status_code == 201, created.json()
    response = _apply_in_portal(_portal(client, sub.customer), sub, "Lion25")
    assert response.status_code == 302
    assert _renewal_totals(sub) == expected
    assert DiscountCode.objects.get(code="LION25").times_used == 1


def test_a_fixed_code_for_both_scopes_lasts_its_payments(client, shop):
    sub = _sub(shop)
    _api(shop).post(
        "/vendor/v1/discount-codes",
        {
            "code": "FIVE",
            "kind": "fixed",
            "value": "5",
            "applies_to": "both",
            "duration": "recurring",
            "recurring_count": 1,
        },
        format="json",
    )
    _apply_in_portal(_portal(client, sub.customer), sub, "five")
    off = (Decimal("20.00"), Decimal("5.00"), Decimal("15.00"))
    full = (Decimal("20.00"), Decimal("0.00"), Decimal("20.00"))
    assert _renewal_totals(sub) == [off, full, full]


def _field_error(response) -> str:
    assert response.status_code == 400
    return response.context["discount_form"].errors["code"][0]


def test_a_one_time_code_is_refused_and_never_prices_a_renewal(client, shop):
    sub = _sub(shop)
    code = f.DiscountCodeFactory(shop=shop, code="ONCE", applies_to=DiscountCode.AppliesTo.ONE_TIME)
    error = _field_error(_apply_in_portal(_portal(client, sub.customer), sub, "once"))
    assert error == "The code ONCE is for one-time purchases only."
    # Attached some other way (an old import, a data fix), billing still honours its scope.
    f.SubscriptionDiscountFactory(subscription=sub, code=code, payments_remaining=None)
    assert billing.subscription_renew(subscription=sub, run_date=RENEWALS[0]).total == Decimal("20.00")


def test_usage_limit_and_expiry_are_enforced_with_clear_errors(client, shop):
    first, second = _sub(shop), _sub(shop)
    f.DiscountCodeFactory(shop=shop, code="ONLYONE", usage_limit=1)
    f.DiscountCodeFactory(shop=shop, code="OLD", ends_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert _apply_in_portal(_portal(client, first.customer), first, "onlyone").status_code == 302
    assert _field_error(_apply_in_portal(_portal(client, second.customer), second, "onlyone")) == (
        "The code ONLYONE has been used up."
    )
    assert _field_error(_apply_in_portal(client, second, "old")) == "The code OLD is not valid at this time."
    assert not second.discounts.exists()


def test_another_shops_code_does_not_exist_here(client, shop):
    sub = _sub(shop)
    f.DiscountCodeFactory(shop=f.ShopFactory(), code="THEIRS")
    error = _field_error(_apply_in_portal(_portal(client, sub.customer), sub, "theirs"))
    assert error == "The code THEIRS does not exist."
