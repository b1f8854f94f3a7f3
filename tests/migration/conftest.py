"""A shop with a catalogue the Recharge data maps onto, and a fake Recharge serving that data."""

import datetime as dt

import pytest

from migration.adapters import recharge
from subscriptions.models import IntervalUnit
from tests import factories as f
from tests.migration.fake_recharge import FakeRecharge

NOW = dt.datetime(2025, 1, 15, 15, 0, tzinfo=dt.UTC)
TOKEN = "rc_test_token"


def customer(id, email, first="", last="", shopify_id=None):
    return {
        "id": id,
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": None,
        "external_customer_id": {"ecommerce": shopify_id},
        "created_at": "2023-05-01T10:00:00+00:00",
    }


def payment_method(id, customer_id, processor="stripe", cus="cus_X", pm="pm_X", default=True):
    return {
        "id": id,
        "customer_id": customer_id,
        "default": default,
        "payment_type": "CREDIT_CARD",
        "processor_name": processor,
        "processor_customer_token": cus,
        "processor_payment_method_token": pm,
        "payment_details": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2027},
        "status": "valid",
    }


def address(id, customer_id, city="Brooklyn", payment_method_id=None):
    return {
        "id": id,
        "customer_id": customer_id,
        "payment_method_id": payment_method_id,
        "address1": "1 Main St",
        "address2": "Apt 2",
        "city": city,
        "province": "New York",
        "zip": "11201",
        "country_code": "US",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "+15555550100",
    }


def subscription(id, customer_id, address_id, **fields):
    record = {
        "id": id,
        "customer_id": customer_id,
        "address_id": address_id,
        "status": "active",
        "price": "18.00",
        "quantity": 1,
        "product_title": "House blend",
        "variant_title": "1 lb",
        "sku": "COFFEE-1",
        "external_product_id": {"ecommerce": "7001"},
        "external_variant_id": {"ecommerce": "8001"},
        "order_interval_unit": "month",
        "order_interval_frequency": 1,
        "charge_interval_frequency": 1,
        "next_charge_scheduled_at": "2025-02-10",
        "cancellation_reason": None,
        "cancelled_at": None,
        "created_at": "2024-03-04T09:30:00",
    }
    record.update(fields)
    return record


def recharge_data() -> dict:
    return {
        "customers": [
            customer(101, "Ada@Example.com", "Ada", "Lovelace", shopify_id="6001"),
            customer(102, "bob@example.com", "Bob"),
            customer(103, "", "Nobody"),
            customer(104, "carol@example.com", "Carol"),
            customer(105, "dan@example.com", "Dan"),
        ],
        "payment_methods": [
            payment_method(201, 101, cus="cus_ada", pm="pm_ada"),
            payment_method(202, 102, cus="cus_bob", pm="pm_bob"),
            payment_method(203, 105, processor="braintree"),
            payment_method(204, 103, cus="cus_nobody", pm="pm_nobody"),
        ],
        "addresses": [
            address(301, 101, payment_method_id=201),
            address(302, 102),
            address(303, 105, city=""),
            address(304, 104),
        ],
        "subscriptions": [
            subscription(401, 101, 301, quantity=2),
            subscription(
                402,
                102,
                302,
                sku="TEA-1",
                external_variant_id={"ecommerce": None},
                price="9.50",
                order_interval_unit="week",
                order_interval_frequency=2,
                charge_interval_frequency=6,
                next_charge_scheduled_at="2025-02-01",
            ),
            subscription(
                403,
                102,
                302,
                status="cancelled",
                next_charge_scheduled_at=None,
                cancellation_reason="Too much coffee",
                cancelled_at="2024-12-01T08:00:00",
            ),
            subscription(404, 101, 301, order_interval_unit="day", order_interval_frequency=3),
            subscription(405, 104, 304, sku="GONE-1", external_variant_id={"ecommerce": "9999"}),
            subscription(406, 105, 303),
            subscription(407, 104, 304, next_charge_scheduled_at="2025-01-10"),
        ],
    }


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=True)


@pytest.fixture
def sleeps(monkeypatch):
    """The pauses the client took (rate limit, retries), instead of sleeping."""
    taken: list[float] = []
    monkeypatch.setattr(recharge, "pause", taken.append)
    return taken


@pytest.fixture
def fake(settings):
    server = FakeRecharge(recharge_data(), token=TOKEN).start()
    settings.RECHARGE_API_URL = server.url
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the fake listens on loopback
    yield server
    server.stop()


@pytest.fixture
def shop(db):
    shop = f.ShopFactory(timezone="America/New_York", currency="USD")
    coffee = f.VariantFactory(shop=shop, sku="COFFEE-1", external_id="8001", price="20.00")
    tea = f.VariantFactory(shop=shop, sku="TEA-1", price="10.00")
    program = f.SubscriptionProgramFactory(shop=shop, name="Coffee club")
    program.products.add(coffee.product, tea.product)
    f.PlanFactory(program=program, name="Monthly", interval_unit=IntervalUnit.MONTH, interval_count=1)
    f.PlanFactory(program=program, name="Every 2 weeks", interval_unit=IntervalUnit.WEEK, interval_count=2)
    f.CustomerFactory(shop=shop, email="carol@example.com", first_name="Carol")
    return shop
