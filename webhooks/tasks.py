"""Celery entry points of the delivery engine: thin, idempotent, safe to run twice."""

import datetime as dt

from celery import shared_task
from django.conf import settings

from webhooks import engine

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="webhooks.relay", **TASK_OPTIONS)
def relay_task() -> int:
    return engine.relay()


@shared_task(name="webhooks.deliver", **TASK_OPTIONS)
def deliver_task(delivery_ids: str | list[str]) -> str | dict | None:
    """One delivery id, or a batch of one destination's deliveries."""
    if isinstance(delivery_ids, list):
        return engine.deliver_many(delivery_ids)
    return engine.deliver(delivery_ids)


@shared_task(name="webhooks.sweep", **TASK_OPTIONS)
def sweep_task() -> int:
    return len(engine.sweep())


@shared_task(name="webhooks.prune", **TASK_OPTIONS)
def prune_task() -> int:
    return engine.prune(older_than=dt.timedelta(days=settings.WEBHOOKS_RETENTION_DAYS))
