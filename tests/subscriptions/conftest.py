"""Fixtures for the subscription service tests: a frozen clock and a whole-database snapshot."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from subscriptions.actors import Actor
from tests import factories as f

UTC = ZoneInfo("UTC")
# 10:00 in New York (the factories' shop timezone): after the default 09:00 billing time.
FROZEN_NOW = dt.datetime(2025, 1, 15, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    """Every test in this folder runs on Wednesday 15 January 2025, so calendar arithmetic is exact."""
    time_machine.move_to(FROZEN_NOW, tick=True)
    return FROZEN_NOW


@pytest.fixture
def shop(db):
    return f.ShopFactory(timezone="America/New_York", currency="USD")


@pytest.fixture
def today(shop) -> dt.date:
    return shop.local_today()


@pytest.fixture
def customer(shop):
    return f.CustomerFactory(shop=shop, first_name="Ada", email="ada@example.com")


@pytest.fixture
def subscription(customer):
    """ACTIVE, monthly, one line, next order on 10 February 2025 (the 10th is the anchor day)."""
    return f.SubscriptionFactory(customer=customer, next_billing_date=dt.date(2025, 2, 10), anchor_day=10)


@pytest.fixture
def actor():
    return Actor.customer("ada@example.com")


def _db_state() -> dict[str, list[dict]]:
    state = {}
    for label in ("subscriptions", "webhooks"):
        for model in apps.get_app_config(label).get_models():
            state[model._meta.label] = list(model.objects.order_by("pk").values())
    return state


@pytest.fixture
def db_state():
    """A function returning every row of the subscription and outbox tables, to prove that a
    refused action changed nothing at all (no row, no field, no activity log, no event)."""
    return _db_state


@pytest.fixture
def refused(db_state):
    """`refused(code, service, **kwargs)`: the service raises DomainError with that code and a message
    for people, and the database is exactly as it was before the call."""
    from subscriptions.errors import DomainError

    def check(code: str, service, /, **kwargs) -> DomainError:
        before = db_state()
        with pytest.raises(DomainError) as caught:
            service(**kwargs)
        error = caught.value
        assert error.code == code, f"expected {code}, got {error.code}: {error.message}"
        assert error.message and str(error) == error.message
        assert db_state() == before
        return error

    return check
