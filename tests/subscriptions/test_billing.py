"""Renewals and dunning through the billing services (test gateway, deterministic by token)."""

import datetime as dt

import pytest
import time_machine

from subscriptions.models import Order, PaymentAttempt, SandboxCharge, Subscription
from subscriptions.services import billing
from tests import factories as f
from webhooks.models import OutboxEvent

D = dt.date


@pytest.fixture
def shop(db):
    return f.ShopFactory(
        timezone="America/New_York",
        billing_time=dt.time(9, 0),
        dunning_retries=2,
        dunning_retry_interval_days=3,
    )


def _sub(shop, token="tok_success", **kwargs):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token=token)
    return f.SubscriptionFactory(customer=customer, payment_method=method, **kwargs)


def _events(type_):
    return list(OutboxEvent.objects.filter(type=type_))


def test_a_due_renewal_is_charged_once_counted_and_moved_on(shop):
    sub = _sub(shop, next_billing_date=D(2025, 1, 31), anchor_day=31)
    order = billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 31))
    assert order.status == Order.Status.PAID
    assert order.total == sum(line.unit_price * line.quantity for line in sub.lines.all())
    sub.refresh_from_db()
    assert sub.order_count == 1
    assert sub.next_billing_date == D(2025, 2, 28)  # month end, anchored on the 31st
    assert len(_events("subscription.transaction_succeeded")) == 1
    # Billing the same date again finds nothing: exactly once.
    assert billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 31)) is None
    assert SandboxCharge.objects.count() == 1


def test_skipped_date_is_consumed_without_a_charge(shop):
    sub = _sub(shop, next_billing_date=D(2025, 2, 10), anchor_day=10)
    f.SkippedDateFactory(subscription=sub, date=D(2025, 2, 10))
    assert billing.subscription_renew(subscription=sub, run_date=D(2025, 2, 10)) is None
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2025, 3, 10)
    assert Order.objects.count() == 0 and SandboxCharge.objects.count() == 0


def test_paused_and_cancelled_are_never_billed(shop):
    paused = _sub(shop, status=Subscription.Status.PAUSED, next_billing_date=D(2025, 2, 1))
    cancelled = _sub(shop, status=Subscription.Status.CANCELLED, next_billing_date=D(2025, 2, 1))
    run = billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 1))
    assert run.charged == 0
    assert not Order.objects.filter(subscription__in=[paused, cancelled]).exists()


def test_declined_card_goes_through_dunning_then_the_final_action(shop):
    sub = _sub(shop, token="tok_declined", next_billing_date=D(2025, 2, 1))
    with time_machine.travel(dt.datetime(2025, 2, 1, 15, 0, tzinfo=dt.UTC), tick=False) as clock:
        billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 1))
        order = Order.objects.get()
        assert order.status == Order.Status.FAILED and order.next_retry_date == D(2025, 2, 4)
        assert len(_events("subscription.transaction_failed")) == 1
        clock.move_to(dt.datetime(2025, 2, 4, 15, 0, tzinfo=dt.UTC))
        billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 4))
        order.refresh_from_db()
        assert order.attempt_count == 2 and order.next_retry_date == D(2025, 2, 7)
        clock.move_to(dt.datetime(2025, 2, 7, 15, 0, tzinfo=dt.UTC))
        billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 7))
    order.refresh_from_db()
    sub.refresh_from_db()
    assert order.attempt_count == 3 and order.next_retry_date is None
    assert sub.status == Subscription.Status.CANCELLED  # the shop's default final action
    assert list(PaymentAttempt.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert len(set(PaymentAttempt.objects.values_list("idempotency_key", flat=True))) == 3


def test_a_new_payment_method_retries_at_once_and_recovers(shop, django_capture_on_commit_callbacks):
    from subscriptions import services
    from subscriptions.actors import Actor

    sub = _sub(shop, token="tok_declined", next_billing_date=D(2025, 2, 1))
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 1))
    new_card = f.PaymentMethodFactory(customer=sub.customer, token="tok_success")
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_update_payment_method(
            subscription=sub, actor=Actor.customer(), payment_method=new_card
        )
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    sub.refresh_from_db()
    assert sub.order_count == 1


def test_network_error_keeps_the_order_pending_and_the_next_run_charges_it_once(shop):
    sub = _sub(shop, token="tok_network_error", next_billing_date=D(2025, 2, 1))
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 1))
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING
    sub.payment_method.token = "tok_success"
    sub.payment_method.save()
    billing.shop_run_billing(shop=shop, run_date=D(2025, 2, 2))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert SandboxCharge.objects.count() == 1


def test_plan_with_maximum_cycles_cancels_after_the_last_order(shop):
    plan = f.PlanFactory(shop=shop, max_cycles=1)
    sub = _sub(shop, plan=plan, next_billing_date=D(2025, 2, 1))
    billing.subscription_renew(subscription=sub, run_date=D(2025, 2, 1))
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.CANCELLED


def test_billing_tick_runs_each_shop_once_after_its_local_billing_time(shop):
    sub = _sub(shop, next_billing_date=D(2025, 2, 1))
    with time_machine.travel(dt.datetime(2025, 2, 1, 13, 0, tzinfo=dt.UTC), tick=False):  # 08:00 in New York
        assert billing.billing_tick() == []
    with time_machine.travel(dt.datetime(2025, 2, 1, 14, 5, tzinfo=dt.UTC), tick=False):  # 09:05
        assert billing.billing_tick() == [shop.pk]
        assert billing.billing_tick() == []
    sub.refresh_from_db()
    assert sub.order_count == 1


def test_billing_and_notice_ticks_are_installed_for_beat(db):
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("setup_periodic_tasks")
    tasks = {t.task: t for t in PeriodicTask.objects.all()}
    assert tasks["subscriptions.billing_tick"].interval.every == 300
    assert tasks["subscriptions.notices_tick"].enabled
