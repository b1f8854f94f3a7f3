from decimal import Decimal

import pytest

from loyalty.models import LoyaltyProgram
from tests import factories as f
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    with Receiver() as server:
        yield server


@pytest.fixture
def sub(db):
    return f.SubscriptionFactory()


@pytest.fixture
def program(sub):
    return LoyaltyProgram.objects.create(shop=sub.shop, enabled=True, points_per_currency_unit=Decimal("1"))
