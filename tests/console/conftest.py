"""Console fixtures: two shops, a console user of each role in the first, a frozen clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from console.roles import staff_set_role
from tests import factories as f

NOW = dt.datetime(2025, 1, 15, 15, 0, tzinfo=ZoneInfo("UTC"))  # Wednesday, 10:00 in New York


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=True)
    return NOW


@pytest.fixture
def shop(db):
    return f.ShopFactory(name="Alpha Coffee", timezone="America/New_York", currency="USD")


@pytest.fixture
def other_shop(db):
    return f.ShopFactory(name="Bravo Tea", timezone="America/New_York", currency="USD")


def _member(shop, username: str, role: str):
    membership = f.StaffMembershipFactory(shop=shop, user__username=username, role=role)
    staff_set_role(membership=membership, role=role)
    return membership.user


@pytest.fixture
def owner(shop):
    return _member(shop, "olivia", "owner")


@pytest.fixture
def staff(shop):
    return _member(shop, "sam", "staff")


@pytest.fixture
def support(shop):
    return _member(shop, "sue", "support")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def owner_client(as_user, owner):
    return as_user(owner)


@pytest.fixture
def staff_client(as_user, staff):
    return as_user(staff)


@pytest.fixture
def support_client(as_user, support):
    return as_user(support)
