import datetime as dt
from decimal import Decimal

import pytest

from subscriptions.models import Plan
from tests.factories import (
    PlanFactory,
    ProductFactory,
    ShopFactory,
    SubscriptionProgramFactory,
    VariantFactory,
)

CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"
CARD_NO_FUNDS = "4000 0000 0000 9995"
CARD_GATEWAY_DOWN = "4000 0000 0000 0119"


@pytest.fixture
def shop():
    return ShopFactory(domain="beans.example", name="Beans", date_format="%d/%m/%Y", currency="USD")


@pytest.fixture
def coffee(shop):
    product = ProductFactory(shop=shop, title="House Coffee", description="Roasted weekly.")
    product.small = VariantFactory(shop=shop, product=product, title="250 g", price=Decimal("20.00"))
    product.large = VariantFactory(shop=shop, product=product, title="1 kg", price=Decimal("60.00"))
    return product


@pytest.fixture
def tea(shop):
    product = ProductFactory(shop=shop, title="Green Tea")
    product.tin = VariantFactory(shop=shop, product=product, title="Tin", price=Decimal("12.00"))
    return product


@pytest.fixture
def monthly(shop, coffee):
    program = SubscriptionProgramFactory(shop=shop, name="Coffee Club")
    program.products.set([coffee])
    plan = PlanFactory(
        program=program,
        name="Every month",
        discount_type=Plan.DiscountType.PERCENTAGE,
        discount_value=Decimal("10"),
    )
    plan.fortnightly = PlanFactory(
        program=program, name="Every 2 weeks", interval_unit="week", interval_count=2
    )
    return plan


@pytest.fixture
def tea_plan(shop, tea):
    program = SubscriptionProgramFactory(shop=shop, name="Tea Club")
    program.products.set([tea])
    return PlanFactory(program=program, name="Monthly tea")


def details(checkout_token, **overrides) -> dict:
    today = dt.date.today()
    data = {
        "checkout": str(checkout_token),
        "email": "new@example.com",
        "first_name": "Grace",
        "last_name": "Hopper",
        "line1": "1 Main St",
        "line2": "",
        "city": "Springfield",
        "province": "IL",
        "postal_code": "62701",
        "country": "US",
        "phone": "",
        "code": "",
        "number": CARD_OK,
        "exp_month": "12",
        "exp_year": str(today.year + 2),
        "website": "",
    }
    data.update(overrides)
    return data
