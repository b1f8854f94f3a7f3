"""Dunning: retries per the shop's settings, the final action, retries after a new payment method,
and never charging one cycle twice."""

import datetime as dt

import pytest

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.models import Order, PaymentAttempt, SandboxCharge, Shop, Subscription
from subscriptions.services import billing
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = dt.date
UTC = dt.UTC


def _shop(**kwargs):
    return f.ShopFactory(timezone="America/New_York", billing_time=dt.time(9, 0), **kwargs)


def _sub(shop, token="tok_declined", **kwargs):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token=token)
    return f.SubscriptionFactory(customer=customer, payment_method=method, **kwargs)


def _event_types(sub):
    return [
        e.type
        for e in OutboxEvent.objects.order_by("occurred_at", "pk")
        if e.payload["data"].get("subscription", {}).get("id") == sub.pk
    ]


def _run_days(time_machine, shop, first: dt.date, last: dt.date):
    """The billing tick at 10:00 local on every day from first to last."""
    day = first
    while day <= last:
        # Ticking: events of one run keep their order in `occurred_at`.
        time_machine.move_to(dt.datetime.combine(day, dt.time(15, 0), UTC), tick=True)
        billing.billing_tick()
        day += dt.timedelta(days=1)


def _attempt_days(order):
    return [
        (a.number, a.created_at.astimezone(order.shop.tz).date(), a.status)
        for a in order.payment_attempts.order_by("number")
    ]


def test_default_dunning_is_three_retries_three_days_apart_then_cancel(time_machine):
    shop = _shop()
    assert (shop.dunning_retries, shop.dunning_retry_interval_days) == (3, 3)
    assert shop.dunning_final_action == Shop.FinalAction.CANCEL
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 15))
    order = Order.objects.get(subscription=sub)
    failed = PaymentAttempt.Status.FAILED
    assert _attempt_days(order) == [
        (1, D(2025, 2, 1), failed),
        (2, D(2025, 2, 4), failed),
        (3, D(2025, 2, 7), failed),
        (4, D(2025, 2, 10), failed),
    ]
    assert order.status == Order.Status.FAILED and order.next_retry_date is None
    assert order.failure_reason == "The card was declined."
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.CANCELLED
    assert sub.cancel_reason == "Payment failed after 4 attempts"
    assert _event_types(sub) == ["subscription.transaction_failed"] * 4 + ["subscription.canceled"]
    retry_dates = [
        e.payload["data"]["retry_date"]
        for e in OutboxEvent.objects.filter(type="subscription.transaction_failed")
    ]
    assert sorted(retry_dates) == ["", "2025-02-04", "2025-02-07", "2025-02-10"]
    assert SandboxCharge.objects.count() == 4


@pytest.mark.parametrize("action", [Shop.FinalAction.PAUSE, Shop.FinalAction.SKIP])
def test_final_action_pause_or_skip(time_machine, action):
    shop = _shop(dunning_retries=1, dunning_retry_interval_days=2, dunning_final_action=action)
    sub = _sub(shop, next_billing_date=D(2025, 2, 1), anchor_day=1)
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 5))
    order = Order.objects.get(subscription=sub)
    assert [a[:2] for a in _attempt_days(order)] == [(1, D(2025, 2, 1)), (2, D(2025, 2, 3))]
    sub.refresh_from_db()
    if action == Shop.FinalAction.PAUSE:
        assert sub.status == Subscription.Status.PAUSED
        assert order.status == Order.Status.FAILED and order.next_retry_date is None
        assert _event_types(sub)[-1] == "subscription.paused"
    else:
        # The order is given up; the subscription carries on with its next order.
        assert sub.status == Subscription.Status.ACTIVE
        assert order.status == Order.Status.CANCELLED
        assert sub.next_billing_date == D(2025, 3, 1)
        assert _event_types(sub) == ["subscription.transaction_failed"] * 2


def test_updating_the_payment_method_retries_at_once(time_machine, django_capture_on_commit_callbacks):
    shop = _shop()
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 2))
    order = Order.objects.get(subscription=sub)
    assert order.status == Order.Status.FAILED and order.next_retry_date == D(2025, 2, 4)
    new_card = f.PaymentMethodFactory(customer=sub.customer, token="tok_success")
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_update_payment_method(
            subscription=sub, actor=Actor.customer("c@example.com"), payment_method=new_card
        )
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.attempt_count == 2
    assert order.next_retry_date is None and order.failure_reason == ""
    assert _attempt_days(order)[-1] == (2, D(2025, 2, 2), PaymentAttempt.Status.SUCCEEDED)
    assert _event_types(sub) == [
        "subscription.transaction_failed",
        "subscription.payment_method_updated",
        "subscription.transaction_succeeded",
    ]
    # The scheduled retry day then charges nothing.
    _run_days(time_machine, shop, D(2025, 2, 4), D(2025, 2, 4))
    assert PaymentAttempt.objects.filter(order=order).count() == 2


def test_a_retry_run_twice_the_same_day_charges_once(time_machine):
    shop = _shop()
    sub = _sub(shop, token="tok_fail_once", next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 1))
    order = Order.objects.get(subscription=sub)
    assert order.status == Order.Status.FAILED
    time_machine.move_to(dt.datetime(2025, 2, 4, 15, 0, tzinfo=UTC), tick=False)
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 4))
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 4))
    assert billing.order_retry_payment(order=order) == Order.Status.PAID  # a paid order is left alone
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.attempt_count == 2
    assert list(SandboxCharge.objects.order_by("pk").values_list("idempotency_key", "outcome")) == [
        (f"order-{order.pk}-2025-02-01-1", "card_declined"),
        (f"order-{order.pk}-2025-02-01-2", "succeeded"),
    ]
    sub.refresh_from_db()
    assert sub.order_count == 1


def test_a_declined_retry_is_not_repeated_the_same_day(time_machine):
    shop = _shop()
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 1))
    time_machine.move_to(dt.datetime(2025, 2, 4, 15, 0, tzinfo=UTC), tick=False)
    for _ in range(2):
        billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 4))
    order = Order.objects.get(subscription=sub)
    assert order.attempt_count == 2 and order.next_retry_date == D(2025, 2, 7)
    assert SandboxCharge.objects.count() == 2


def test_a_retry_without_an_answer_asks_again_with_the_same_key(time_machine):
    """A retry whose gateway call got no answer may have charged: the next try must reuse its key."""
    shop = _shop()
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 1))
    method = sub.payment_method
    method.token = "tok_network_error"
    method.save()
    time_machine.move_to(dt.datetime(2025, 2, 4, 15, 0, tzinfo=UTC), tick=False)
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 4))
    order = Order.objects.get(subscription=sub)
    assert order.status == Order.Status.FAILED and order.attempt_count == 2
    assert order.payment_attempts.get(number=2).status == PaymentAttempt.Status.ERROR
    method.token = "tok_success"
    method.save()
    time_machine.move_to(dt.datetime(2025, 2, 5, 15, 0, tzinfo=UTC), tick=False)
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 5))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.attempt_count == 2
    assert list(order.payment_attempts.values_list("number", "status")) == [
        (1, PaymentAttempt.Status.FAILED),
        (2, PaymentAttempt.Status.SUCCEEDED),
    ]
    assert SandboxCharge.objects.filter(idempotency_key=f"order-{order.pk}-2025-02-01-2").count() == 1


def test_give_up_on_a_failed_order_stops_its_retries(time_machine):
    shop = _shop()
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    _run_days(time_machine, shop, D(2025, 2, 1), D(2025, 2, 1))
    order = Order.objects.get(subscription=sub)
    services.order_cancel_payment(order=order, actor=Actor.admin(f.UserFactory()))
    _run_days(time_machine, shop, D(2025, 2, 2), D(2025, 2, 12))
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.attempt_count == 1
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE


def test_a_renewal_declined_in_a_backfill_run_is_not_retried_in_that_same_run():
    """Retry dates count from today; a run for a later date (backfill, catch-up) must not see its own
    fresh decline as a retry already due and charge the card again seconds later."""
    shop = _shop()
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))  # the suite's clock says 15 January
    run = billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 1))
    order = Order.objects.get(subscription=sub)
    assert order.attempt_count == 1 and SandboxCharge.objects.count() == 1
    assert (run.charged, run.failed) == (0, 1)
