"""`subscription_import`: a subscription as it stands elsewhere, written without any event."""

import datetime as dt
from decimal import Decimal

import pytest

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.services.imports import subscription_import
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
ACTOR = Actor.integration("recharge")


def _args(shop, **overrides):
    customer = f.CustomerFactory(shop=shop)
    args = {
        "customer": customer,
        "plan": f.PlanFactory(shop=shop),
        "lines": [(f.VariantFactory(shop=shop), 1, Decimal("12.00"))],
        "actor": ACTOR,
        "status": "ACTIVE",
        "next_billing_date": dt.date(2025, 2, 1),
    }
    return args | overrides


def test_imports_an_active_subscription_at_its_own_price_without_events(shop):
    sub = subscription_import(**_args(shop))
    assert sub.lines.get().unit_price == Decimal("12.00") and sub.anchor_day == 1
    assert sub.customer.subscriber_since is not None
    assert not OutboxEvent.objects.exists()


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"status": "PAUSED"}, "status"),
        ({"next_billing_date": None}, "next_billing_date"),
        ({"lines": []}, "lines"),
    ],
)
def test_refuses_what_cannot_be_imported(shop, overrides, field):
    with pytest.raises(DomainError) as refused:
        subscription_import(**_args(shop, **overrides))
    assert refused.value.field == field


def test_refuses_another_shops_plan_variant_or_address(shop):
    other = f.ShopFactory()
    with pytest.raises(DomainError) as refused:
        subscription_import(**_args(shop, plan=f.PlanFactory(shop=other)))
    assert refused.value.field == "plan"
    with pytest.raises(DomainError) as refused:
        subscription_import(**_args(shop, lines=[(f.VariantFactory(shop=other), 1, Decimal("1"))]))
    assert refused.value.field == "lines"
    args = _args(shop)
    with pytest.raises(DomainError) as refused:
        subscription_import(**args, shipping_address=f.AddressFactory(shop=shop))
    assert refused.value.field == "shipping_address"
