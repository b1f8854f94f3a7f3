"""Points ledger, rewards, expiry and referrals through the loyalty services."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from loyalty import services
from loyalty.models import CustomerBalance, LedgerEntry, Redemption, Referral, ReferralCode, Reward
from subscriptions.errors import DomainError
from subscriptions.models import DiscountCode, SubscriptionDiscount
from tests import factories as f
from webhooks.models import OutboxEvent


def _balance(customer) -> int:
    return CustomerBalance.objects.get(customer=customer).points


def _events(type_):
    return [e.payload["data"] for e in OutboxEvent.objects.filter(type=type_).order_by("occurred_at")]


def test_earning_credits_the_ledger_and_the_balance_and_emits_the_event(sub):
    entry = services.points_earn(customer=sub.customer, points=40, reason="Order #1")
    assert (entry.kind, entry.points, entry.balance_after) == ("earn", 40, 40)
    assert _balance(sub.customer) == 40
    [data] = _events("loyalty.points_earned")
    assert (data["points"], data["balance"], data["reason"]) == (40, 40, "Order #1")
    assert data["customer"]["id"] == sub.customer.pk


def test_the_same_source_event_earns_once(sub):
    services.points_earn(customer=sub.customer, points=10, reason="x", source_event_id="evt-1")
    assert services.points_earn(customer=sub.customer, points=10, reason="x", source_event_id="evt-1") is None
    assert _balance(sub.customer) == 10
    assert LedgerEntry.objects.count() == 1


def test_bonus_emits_the_bonus_event(sub):
    services.points_bonus(customer=sub.customer, points=25, reason="Order number 3")
    [data] = _events("loyalty.bonus_points_earned")
    assert (data["points"], data["balance"]) == (25, 25)


@pytest.mark.parametrize("points", [0, -5, 1.5])
def test_earned_points_are_positive_whole_numbers(sub, points):
    with pytest.raises(DomainError):
        services.points_earn(customer=sub.customer, points=points, reason="x")


def test_staff_adjustment_records_who_and_why_and_never_goes_below_zero(sub):
    staff = f.UserFactory()
    services.points_earn(customer=sub.customer, points=10, reason="x")
    entry = services.points_adjust(customer=sub.customer, points=-4, staff=staff, reason="Goodwill undo")
    assert (entry.kind, entry.balance_after, entry.staff_user, entry.reason) == (
        "adjust",
        6,
        staff,
        "Goodwill undo",
    )
    with pytest.raises(DomainError) as exc:
        services.points_adjust(customer=sub.customer, points=-7, staff=staff, reason="too much")
    assert exc.value.code == "insufficient_points"
    assert _balance(sub.customer) == 6
    with pytest.raises(DomainError):
        services.points_adjust(customer=sub.customer, points=3, staff=staff, reason=" ")


def test_expiry_takes_the_old_unspent_points_only_once(sub, program):
    program.expiry_days = 30
    program.save()
    customer = sub.customer
    start = timezone.now()
    with time_machine.travel(start - dt.timedelta(days=40), tick=False):
        services.points_earn(customer=customer, points=100, reason="old")
    with time_machine.travel(start - dt.timedelta(days=35), tick=False):
        services.points_adjust(customer=customer, points=-30, staff=None, reason="spent")
    services.points_earn(customer=customer, points=50, reason="recent")
    entry = services.points_expire(customer=customer, now=start + dt.timedelta(seconds=1))
    assert (entry.kind, entry.points, entry.balance_after) == ("expire", -70, 50)
    assert services.points_expire(customer=customer, now=start + dt.timedelta(seconds=2)) is None
    assert _balance(customer) == 50


def test_the_daily_expiry_task_expires_old_points_of_shops_that_expire_them(sub, program):
    from loyalty.tasks import expire_points_task

    program.expiry_days = 30
    program.save()
    with time_machine.travel(timezone.now() - dt.timedelta(days=40), tick=False):
        services.points_earn(customer=sub.customer, points=25, reason="old")
    services.points_earn(customer=sub.customer, points=5, reason="recent")
    assert expire_points_task.apply().get() == 1
    assert expire_points_task.apply().get() == 0  # idempotent
    assert _balance(sub.customer) == 5


def test_no_expiry_without_expiry_days(sub, program):
    services.points_earn(customer=sub.customer, points=10, reason="x")
    assert services.points_expire(customer=sub.customer, now=timezone.now() + dt.timedelta(days=9999)) is None


# ---------------------------------------------------------------- redemption


def _reward(shop, **kw):
    defaults = {"name": "$5 off", "kind": Reward.Kind.FIXED_AMOUNT, "value": Decimal("5"), "points_cost": 100}
    defaults.update(kw)
    return Reward.objects.create(shop=shop, **defaults)


def test_redeem_spends_points_and_applies_a_single_use_first_payment_code(sub):
    services.points_earn(customer=sub.customer, points=150, reason="x")
    redemption = services.reward_redeem(customer=sub.customer, reward=_reward(sub.shop), subscription=sub)
    code = redemption.discount_code
    assert (code.kind, code.value, code.applies_to, code.duration, code.usage_limit) == (
        DiscountCode.Kind.FIXED,
        Decimal("5.00"),
        DiscountCode.AppliesTo.SUBSCRIPTION,
        DiscountCode.Duration.FIRST_PAYMENT,
        1,
    )
    applied = SubscriptionDiscount.objects.get(subscription=sub, code=code)
    assert applied.payments_remaining == 1
    assert _balance(sub.customer) == 50
    [data] = _events("loyalty.points_redeemed")
    assert (data["points"], data["balance"], data["discount_code"]) == (100, 50, code.code)


def test_percentage_reward_gives_a_percentage_code(sub):
    services.points_earn(customer=sub.customer, points=100, reason="x")
    reward = _reward(sub.shop, kind=Reward.Kind.PERCENTAGE, value=Decimal("10"))
    code = services.reward_redeem(customer=sub.customer, reward=reward, subscription=sub).discount_code
    assert (code.kind, code.value) == (DiscountCode.Kind.PERCENTAGE, Decimal("10.00"))


def test_free_product_adds_the_line_and_discounts_its_price(sub):
    variant = f.VariantFactory(shop=sub.shop, price=Decimal("12.50"))
    services.points_earn(customer=sub.customer, points=100, reason="x")
    reward = _reward(sub.shop, kind=Reward.Kind.FREE_PRODUCT, value=Decimal("0"), variant=variant)
    code = services.reward_redeem(customer=sub.customer, reward=reward, subscription=sub).discount_code
    assert (code.kind, code.value) == (DiscountCode.Kind.FIXED, Decimal("12.50"))
    assert sub.lines.filter(variant=variant).exists()


def test_insufficient_points_are_refused_and_nothing_changes(sub):
    services.points_earn(customer=sub.customer, points=99, reason="x")
    with pytest.raises(DomainError) as exc:
        services.reward_redeem(customer=sub.customer, reward=_reward(sub.shop), subscription=sub)
    assert exc.value.code == "insufficient_points"
    assert _balance(sub.customer) == 99
    assert LedgerEntry.objects.filter(kind="redeem").count() == 0
    assert Redemption.objects.count() == 0
    assert DiscountCode.objects.count() == 0
    assert not _events("loyalty.points_redeemed")


def test_another_shops_reward_is_refused(sub):
    services.points_earn(customer=sub.customer, points=500, reason="x")
    with pytest.raises(DomainError):
        services.reward_redeem(customer=sub.customer, reward=_reward(f.ShopFactory()), subscription=sub)


# ---------------------------------------------------------------- referrals


def test_one_referral_code_per_customer_with_its_event(sub):
    first = services.referral_code_generate(customer=sub.customer)
    again = services.referral_code_generate(customer=sub.customer)
    assert first.pk == again.pk
    assert ReferralCode.objects.count() == 1
    [data] = _events("loyalty.referral_code_generated")
    assert data["referral_code"] == first.code


def test_referral_applies_the_referee_discount_to_the_first_subscription(sub, program):
    program.referee_discount = DiscountCode.objects.create(
        shop=sub.shop, code="FRIEND10", value=Decimal("10"), applies_to="subscription"
    )
    program.save()
    code = services.referral_code_generate(customer=sub.customer)
    referee_sub = f.SubscriptionFactory(shop=sub.shop, payment_method__last4="1111")
    referral = services.referral_apply(code=code.code.lower(), customer=referee_sub.customer)
    assert (referral.referrer, referral.status) == (sub.customer, Referral.Status.PENDING)
    assert referee_sub.discounts.filter(code=program.referee_discount).exists()


def _refusal(code, customer):
    with pytest.raises(DomainError) as exc:
        services.referral_apply(code=code.code, customer=customer)
    return exc.value


def test_self_referral_is_refused(sub):
    code = services.referral_code_generate(customer=sub.customer)
    assert _refusal(code, sub.customer).code == "self_referral"


def test_a_referee_email_is_referred_only_once(sub):
    code = services.referral_code_generate(customer=sub.customer)
    referee = f.CustomerFactory(shop=sub.shop, email="new@example.com")
    services.referral_apply(code=code.code, customer=referee)
    other_code = services.referral_code_generate(customer=f.CustomerFactory(shop=sub.shop))
    error = _refusal(other_code, referee)
    assert error.code == "already_referred"
    assert "already" in error.message


def test_the_referrers_card_is_refused(sub):
    code = services.referral_code_generate(customer=sub.customer)
    card = sub.payment_method
    referee = f.CustomerFactory(shop=sub.shop)
    f.PaymentMethodFactory(
        customer=referee, brand=card.brand, last4=card.last4, exp_month=card.exp_month, exp_year=card.exp_year
    )
    error = _refusal(code, referee)
    assert error.code == "referral_same_payment_method"
    assert "card" in error.message
    assert Referral.objects.count() == 0


def test_the_referrers_address_is_refused(sub):
    code = services.referral_code_generate(customer=sub.customer)
    address = sub.shipping_address
    referee = f.CustomerFactory(shop=sub.shop)
    f.AddressFactory(customer=referee, line1=address.line1.lower(), postal_code=address.postal_code)
    error = _refusal(code, referee)
    assert error.code == "referral_same_address"
    assert "address" in error.message


def test_an_unknown_code_is_refused(sub):
    with pytest.raises(DomainError) as exc:
        services.referral_apply(code="NOPE", customer=sub.customer)
    assert exc.value.code == "invalid_code"
