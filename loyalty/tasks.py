"""Celery entry points of the loyalty app: thin and idempotent."""

from celery import shared_task

from loyalty.models import LedgerEntry, LoyaltyProgram
from loyalty.services import points_expire
from subscriptions.models import Customer

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="loyalty.expire_points", **TASK_OPTIONS)
def expire_points_task() -> int:
    """Run expiry for every customer with points in a shop whose program expires points."""
    shops = LoyaltyProgram.objects.filter(expiry_days__isnull=False, expiry_days__gt=0).values_list(
        "shop_id", flat=True
    )
    holders = (
        LedgerEntry.objects.filter(shop_id__in=list(shops)).values_list("customer_id", flat=True).distinct()
    )
    expired = 0
    for customer in Customer.objects.filter(pk__in=list(holders)).select_related("shop"):
        expired += points_expire(customer=customer) is not None
    return expired
