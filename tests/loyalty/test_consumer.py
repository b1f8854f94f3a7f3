"""The earning rules, driven by subscription events through the webhooks engine, and the loyalty
events delivered to a merchant's webhook endpoint."""

import datetime as dt
import json
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone

from loyalty import services
from loyalty.consumer import KIND
from loyalty.models import CustomerBalance, LedgerEntry, Referral, Reward
from subscriptions.actors import SYSTEM
from subscriptions.events import emit_subscription_event
from subscriptions.models import Subscription
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery
from webhooks.registry import customer_facts
from webhooks.services import endpoint_create

LOYALTY_EVENTS = [
    "loyalty.points_earned",
    "loyalty.bonus_points_earned",
    "loyalty.referral_succeeded",
    "loyalty.points_redeemed",
    "loyalty.referral_code_generated",
]


def _paid(sub, total="29.99", order_count=None):
    if order_count is not None:
        Subscription.objects.filter(pk=sub.pk).update(order_count=order_count)
        sub.refresh_from_db()
    with transaction.atomic():
        emit_subscription_event(
            "subscription.transaction_succeeded",
            sub,
            actor=SYSTEM,
            extra={"order": {"id": 7, "total": total, "currency": "USD"}},
        )


def _consume() -> list[Delivery]:
    engine.relay(enqueue=False)
    deliveries = list(Delivery.objects.filter(destination_kind=KIND, status=Delivery.Status.PENDING))
    for delivery in deliveries:
        assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    return deliveries


def _balance(customer) -> int:
    return CustomerBalance.objects.get(customer=customer).points


def test_points_per_currency_unit_are_rounded_down(sub, program):
    program.points_per_currency_unit = Decimal("2")
    program.save()
    _paid(sub, total="29.99")
    _consume()
    assert _balance(sub.customer) == 59


def test_nth_order_bonus(sub, program):
    program.every_nth_order, program.nth_order_bonus = 3, 100
    program.save()
    _paid(sub, total="10", order_count=2)
    _consume()
    assert _balance(sub.customer) == 10
    _paid(sub, total="10", order_count=3)
    _consume()
    assert _balance(sub.customer) == 120
    assert LedgerEntry.objects.filter(kind="bonus").get().reason == "Order number 3"


def test_campaign_multiplies_and_adds_a_bonus_inside_its_window_only(sub, program):
    now = timezone.now()
    program.campaign_starts_at, program.campaign_ends_at = (
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=1),
    )
    program.campaign_multiplier, program.campaign_bonus = Decimal("2"), 5
    program.save()
    _paid(sub, total="10")
    _consume()
    assert _balance(sub.customer) == 25
    with time_machine.travel(now + dt.timedelta(days=2)):
        _paid(sub, total="10")
        _consume()
    assert _balance(sub.customer) == 35


def test_anniversary_bonus_once_a_year(sub, program):
    program.anniversary_bonus = 200
    program.save()
    Subscription.objects.filter(pk=sub.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    _paid(sub, total="10")
    _paid(sub, total="10")
    _consume()
    assert _balance(sub.customer) == 220
    assert LedgerEntry.objects.filter(kind="bonus").count() == 1


def test_subscription_created_and_first_subscription_points(sub, program):
    program.points_on_subscription_created, program.points_on_account_created = 50, 30
    program.save()
    customer = f.CustomerFactory(shop=sub.shop)
    first = f.SubscriptionFactory(customer=customer)
    second = f.SubscriptionFactory(customer=customer)
    for created in (first, second):
        with transaction.atomic():
            emit_subscription_event("subscription.created", created, actor=SYSTEM)
    _consume()
    assert _balance(customer) == 130


def test_disabled_program_gets_no_deliveries(sub, program):
    program.enabled = False
    program.save()
    _paid(sub)
    engine.relay(enqueue=False)
    assert not Delivery.objects.filter(destination_kind=KIND).exists()


def test_a_replayed_delivery_earns_nothing_twice(sub, program):
    program.every_nth_order, program.nth_order_bonus = 1, 10
    program.save()
    _paid(sub, total="20", order_count=1)
    [delivery] = _consume()
    engine.replay([delivery.pk])
    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    assert _balance(sub.customer) == 30
    assert LedgerEntry.objects.count() == 2


def test_the_referrer_earns_when_the_referees_first_renewal_is_paid(sub, program):
    program.referrer_points = 500
    program.save()
    code = services.referral_code_generate(customer=sub.customer)
    referee_sub = f.SubscriptionFactory(shop=sub.shop, payment_method__last4="1111")
    services.referral_apply(code=code.code, customer=referee_sub.customer)
    _paid(referee_sub, total="10")
    _paid(referee_sub, total="10")
    _consume()
    assert _balance(sub.customer) == 500
    assert Referral.objects.get().status == Referral.Status.SUCCEEDED


def test_customer_facts_show_balance_and_referral_code(sub):
    services.points_earn(customer=sub.customer, points=350, reason="x")
    code = services.referral_code_generate(customer=sub.customer)
    facts = customer_facts(sub.shop_id, sub.customer_id)
    assert facts["loyalty_points_balance"] == 350
    assert facts["referral_code"] == code.code


def test_the_five_loyalty_events_reach_a_webhook_endpoint(sub, program, receiver):
    endpoint_create(shop_id=sub.shop.pk, url=receiver.url, events=LOYALTY_EVENTS)
    program.every_nth_order, program.nth_order_bonus, program.referrer_points = 1, 10, 500
    program.save()
    code = services.referral_code_generate(customer=sub.customer)
    referee_sub = f.SubscriptionFactory(shop=sub.shop, payment_method__last4="1111")
    services.referral_apply(code=code.code, customer=referee_sub.customer)
    _paid(referee_sub, total="20", order_count=1)
    _consume()
    reward = Reward.objects.create(
        shop=sub.shop, name="$5 off", kind="fixed_amount", value=5, points_cost=100
    )
    services.reward_redeem(customer=sub.customer, reward=reward, subscription=sub)

    engine.relay(enqueue=False)
    for delivery in Delivery.objects.filter(destination_kind="webhook"):
        assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED
    bodies = {}
    for request in receiver.requests:
        body = json.loads(request["body"])
        bodies.setdefault(body["type"], []).append(body["data"])
    assert set(bodies) == set(LOYALTY_EVENTS)
    assert bodies["loyalty.referral_code_generated"][0]["referral_code"] == code.code
    # The referrer's points are announced once, as the referral's success.
    [earned] = bodies["loyalty.points_earned"]
    assert (earned["customer"]["id"], earned["points"], earned["balance"]) == (
        referee_sub.customer_id,
        20,
        20,
    )
    [bonus] = bodies["loyalty.bonus_points_earned"]
    assert (bonus["points"], bonus["balance"], bonus["reason"]) == (10, 30, "Order number 1")
    [referral] = bodies["loyalty.referral_succeeded"]
    assert (referral["customer"]["id"], referral["points"], referral["balance"]) == (
        sub.customer_id,
        500,
        500,
    )
    assert referral["referee_email"] == referee_sub.customer.email
    [redeemed] = bodies["loyalty.points_redeemed"]
    assert (redeemed["points"], redeemed["balance"], redeemed["reason"]) == (100, 400, "Redeemed: $5 off")
