"""Celery entry points of the subscription domain: thin, idempotent (the services are once-only)."""

import datetime as dt

from celery import shared_task

from subscriptions.models import Order, Shop, Subscription
from subscriptions.services import billing, notices

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="subscriptions.billing_tick", **TASK_OPTIONS)
def billing_tick_task() -> list[int]:
    return billing.billing_tick()


@shared_task(name="subscriptions.notices_tick", **TASK_OPTIONS)
def notices_tick_task() -> dict:
    return {str(k): v for k, v in notices.notices_tick().items()}


@shared_task(name="subscriptions.run_shop_billing", **TASK_OPTIONS)
def run_shop_billing_task(shop_id: int, run_date: str) -> int:
    run = billing.shop_run_billing(
        shop=Shop.objects.get(pk=shop_id), run_date=dt.date.fromisoformat(run_date)
    )
    return run.pk


@shared_task(name="subscriptions.retry_failed_orders", **TASK_OPTIONS)
def retry_failed_orders_task(subscription_id: int) -> list[str]:
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return []
    return billing.retry_after_payment_method_update(subscription=subscription)


@shared_task(name="subscriptions.retry_order", **TASK_OPTIONS)
def retry_order_task(order_id: int) -> str:
    return billing.order_retry_payment(order=Order.objects.get(pk=order_id))
