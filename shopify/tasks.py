"""Celery entry points of the Shopify connection: thin; failures Shopify may recover from are
retried with backoff (a catalogue import or stock refresh is safe to run again)."""

from celery import shared_task

from shopify.client import ShopifyError
from shopify.connection import NotConnected
from subscriptions.models import Shop

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
MAX_RETRIES = 5


def _countdown(exc: ShopifyError, retries: int) -> int:
    if exc.retry_after is not None:
        return max(1, int(exc.retry_after.total_seconds()))
    return 30 * 2**retries


@shared_task(name="shopify.catalogue_import", bind=True, max_retries=MAX_RETRIES, **TASK_OPTIONS)
def catalogue_import_task(self, shop_id: int) -> None:
    from shopify.catalogue import catalogue_import

    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return
    try:
        catalogue_import(shop=shop)
    except NotConnected:
        return
    except ShopifyError as exc:
        if exc.retryable:
            raise self.retry(exc=exc, countdown=_countdown(exc, self.request.retries)) from exc


@shared_task(name="shopify.inventory_refresh", bind=True, max_retries=MAX_RETRIES, **TASK_OPTIONS)
def inventory_refresh_task(self, shop_id: int, inventory_item_id: str) -> None:
    from shopify.catalogue import inventory_item_refresh

    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        return
    try:
        inventory_item_refresh(shop=shop, inventory_item_id=inventory_item_id)
    except NotConnected:
        return
    except ShopifyError as exc:
        if exc.retryable:
            raise self.retry(exc=exc, countdown=_countdown(exc, self.request.retries)) from exc
