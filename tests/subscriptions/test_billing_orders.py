"""What a renewal order contains: gifts, discount codes, unavailable products."""

import datetime as dt
from decimal import Decimal

import pytest

from subscriptions.actors import Actor
from subscriptions.models import (
    ActivityLog,
    DiscountCode,
    Order,
    SandboxCharge,
    Shop,
    Subscription,
    SubscriptionDiscount,
)
from subscriptions.services import billing, catalogue, lifecycle
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = dt.date


def _sub(shop, token="tok_success", price=Decimal("20.00"), **kwargs):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token=token)
    kwargs.setdefault("lines", [f.VariantFactory(shop=shop, price=price)])
    return f.SubscriptionFactory(customer=customer, payment_method=method, **kwargs)


@pytest.fixture
def shop(db):
    return f.ShopFactory(timezone="America/New_York")


@pytest.fixture
def actor():
    return Actor.customer("c@example.com")


def _renew(sub, date):
    return billing.subscription_renew(subscription=sub, run_date=date)


def test_a_gifted_order_ships_to_the_recipient_once(shop, actor):
    sub = _sub(shop, next_billing_date=D(2025, 2, 10), anchor_day=10)
    lifecycle.subscription_gift(
        subscription=sub,
        actor=actor,
        recipient_first_name="Grace",
        recipient_last_name="Hopper",
        recipient_email="grace@example.com",
        message="Happy birthday",
        line1="1 Navy Way",
        city="Arlington",
        province="VA",
        postal_code="22201",
        country="us",
    )
    gifted = _renew(sub, D(2025, 2, 10))
    assert gifted.is_gift is True
    assert gifted.shipping_address == {
        "first_name": "Grace",
        "last_name": "Hopper",
        "line1": "1 Navy Way",
        "line2": "",
        "city": "Arlington",
        "province": "VA",
        "postal_code": "22201",
        "country": "US",
        "email": "grace@example.com",
        "gift_message": "Happy birthday",
    }
    following = _renew(sub, D(2025, 3, 10))
    assert following.is_gift is False
    assert following.shipping_address == sub.shipping_address.as_dict()


def _apply(sub, shop, actor, **code):
    discount = f.DiscountCodeFactory(shop=shop, **code)
    lifecycle.subscription_apply_discount(subscription=sub, actor=actor, code=discount.code)
    return SubscriptionDiscount.objects.get(subscription=sub, code=discount)


def _totals(sub, dates):
    return [(o.subtotal, o.discount_total, o.total) for o in (_renew(sub, d) for d in dates)]


MONTHS = [D(2025, 2, 10), D(2025, 3, 10), D(2025, 4, 10), D(2025, 5, 10)]
P, F_ = DiscountCode.Kind.PERCENTAGE, DiscountCode.Kind.FIXED
FULL = (Decimal("20.00"), Decimal("0.00"), Decimal("20.00"))


@pytest.mark.parametrize(
    "code,expected,remaining",
    [
        (
            {"kind": P, "value": Decimal("15"), "duration": DiscountCode.Duration.FIRST_PAYMENT},
            [(Decimal("20.00"), Decimal("3.00"), Decimal("17.00")), FULL, FULL, FULL],
            0,
        ),
        (
            {
                "kind": F_,
                "value": Decimal("5"),
                "duration": DiscountCode.Duration.RECURRING,
                "recurring_count": 2,
            },
            [(Decimal("20.00"), Decimal("5.00"), Decimal("15.00"))] * 2 + [FULL, FULL],
            0,
        ),
        (
            {"kind": P, "value": Decimal("10"), "duration": DiscountCode.Duration.ALL},
            [(Decimal("20.00"), Decimal("2.00"), Decimal("18.00"))] * 4,
            None,
        ),
        (
            {"kind": F_, "value": Decimal("25"), "duration": DiscountCode.Duration.ALL},
            [(Decimal("20.00"), Decimal("20.00"), Decimal("0.00"))] * 4,  # never below zero
            None,
        ),
    ],
    ids=["percentage-first-payment", "fixed-2-recurring", "percentage-all", "fixed-larger-than-order"],
)
def test_discount_codes_at_billing(shop, actor, code, expected, remaining):
    sub = _sub(shop, next_billing_date=MONTHS[0], anchor_day=10)
    applied = _apply(sub, shop, actor, **code)
    assert _totals(sub, MONTHS) == expected
    applied.refresh_from_db()
    assert applied.payments_remaining == remaining
    assert Order.objects.filter(status=Order.Status.PAID).count() == 4


def test_a_discounted_payment_is_used_up_only_when_it_succeeds(shop, actor, time_machine):
    sub = _sub(shop, token="tok_declined", next_billing_date=D(2025, 2, 10), anchor_day=10)
    applied = _apply(
        sub,
        shop,
        actor,
        kind=F_,
        value=Decimal("5"),
        duration=DiscountCode.Duration.RECURRING,
        recurring_count=1,
    )
    time_machine.move_to(dt.datetime(2025, 2, 10, 15, 0, tzinfo=dt.UTC), tick=False)
    order = _renew(sub, D(2025, 2, 10))
    assert order.status == Order.Status.FAILED and order.total == Decimal("15.00")
    applied.refresh_from_db()
    assert applied.payments_remaining == 1
    sub.payment_method.token = "tok_success"
    sub.payment_method.save()
    assert billing.order_retry_payment(order=order) == Order.Status.PAID
    applied.refresh_from_db()
    assert applied.payments_remaining == 0
    assert _renew(sub, D(2025, 3, 10)).total == Decimal("20.00")


# ------------------------------------------------------------------ unavailable products


def _product_unavailable_subs():
    return sorted(
        e.payload["data"]["subscription"]["id"]
        for e in OutboxEvent.objects.filter(type="subscription.product_unavailable")
    )


def test_variant_becoming_unavailable_tells_each_active_subscription_once(shop):
    variant = f.VariantFactory(shop=shop, sku="BEANS-1KG", inventory=5)
    other = f.VariantFactory(shop=shop)
    active = [_sub(shop, lines=[variant]), _sub(shop, lines=[variant, other])]
    _sub(shop, lines=[variant], status=Subscription.Status.PAUSED)
    _sub(shop, lines=[variant], status=Subscription.Status.CANCELLED)
    _sub(shop, lines=[other])
    admin = Actor.admin(f.UserFactory())
    catalogue.variant_update(variant=variant, actor=admin, inventory=0)
    assert _product_unavailable_subs() == sorted(s.pk for s in active)
    event = OutboxEvent.objects.filter(type="subscription.product_unavailable").first()
    assert event.payload["data"]["unavailable_item"]["sku"] == "BEANS-1KG"
    # Still unavailable (archived too): nothing new to tell.
    catalogue.variant_update(variant=variant, actor=admin, archived=True)
    catalogue.variant_update(variant=variant, actor=admin, price="19.00")
    assert len(_product_unavailable_subs()) == 2


def test_skip_line_ships_the_rest(shop):
    gone = f.VariantFactory(shop=shop, price=Decimal("7.00"), sku="GONE")
    kept = f.VariantFactory(shop=shop, price=Decimal("20.00"), sku="KEPT")
    sub = _sub(shop, lines=[gone, kept], next_billing_date=D(2025, 2, 10))
    catalogue.variant_update(variant=gone, actor=Actor.admin(f.UserFactory()), available=False)
    order = _renew(sub, D(2025, 2, 10))
    assert order.status == Order.Status.PAID
    assert list(order.lines.values_list("sku", flat=True)) == ["KEPT"]
    assert order.total == Decimal("20.00")
    assert ActivityLog.objects.filter(subscription=sub, action="lines_left_out").exists()


def test_skip_order_skips_without_charging_and_moves_the_date(shop):
    shop.unavailable_product_action = Shop.UnavailableAction.SKIP_ORDER
    shop.save()
    gone = f.VariantFactory(shop=shop, available=False)
    kept = f.VariantFactory(shop=shop)
    sub = _sub(shop, lines=[gone, kept], next_billing_date=D(2025, 2, 10), anchor_day=10)
    run = billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 10))
    assert Order.objects.count() == 0 and SandboxCharge.objects.count() == 0
    assert (run.charged, run.failed, run.skipped) == (0, 0, 1)
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2025, 3, 10)
    assert OutboxEvent.objects.filter(type__startswith="subscription.transaction").count() == 0


def test_every_line_unavailable_skips_the_order_even_with_skip_line(shop):
    gone = f.VariantFactory(shop=shop, archived=True)
    sub = _sub(shop, lines=[gone], next_billing_date=D(2025, 2, 10), anchor_day=10)
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 10))
    assert Order.objects.count() == 0
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2025, 3, 10)
