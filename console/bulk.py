"""Bulk operations: a job over a fixed selection of subscriptions, run in the background.

Each subscription goes through the same lifecycle service the console's buttons, the API and the
portal call, so it is logged and emits its events one by one; a refused one is reported with the
service's reason and the job goes on. The job keeps how far it got: run again (a worker lost it),
it continues after the last subscription it counted.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from console.activity import record_staff_action
from console.models import BulkJob
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Shop, Subscription, Variant
from subscriptions.services.pricing import _check_price, subscription_change_price

Operation = BulkJob.Operation
PROGRESS_EVERY = 25


def _variant(shop: Shop, variant_id, *, field: str) -> Variant:
    variant = Variant.objects.filter(shop=shop, pk=variant_id).select_related("product").first()
    if variant is None:
        raise DomainError("not_found", "That product variant does not exist in this shop.", field=field)
    return variant


def _date(raw, *, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise DomainError("invalid_date", "Give a date as YYYY-MM-DD.", field=field) from exc


def clean_params(shop: Shop, operation: str, params: dict) -> dict:
    """The parameters an operation needs, checked once before the job is made (JSON-ready)."""
    if operation not in Operation.values:
        raise DomainError("unknown_operation", f"Unknown bulk operation '{operation}'.", field="operation")
    if operation == Operation.CANCEL:
        reason = str(params.get("reason") or "").strip()
        if len(reason) > 500:
            raise DomainError("reason_too_long", "The reason is limited to 500 characters.", field="reason")
        return {"reason": reason}
    if operation == Operation.SET_NEXT_BILLING_DATE:
        date = _date(params.get("date"), field="date")
        if date <= shop.local_today():
            raise DomainError("date_in_past", "The new date must be after today.", field="date")
        return {"date": date.isoformat()}
    if operation == Operation.SWAP_VARIANT:
        old = _variant(shop, params.get("from_variant"), field="from_variant")
        new = _variant(shop, params.get("to_variant"), field="to_variant")
        if old.pk == new.pk:
            raise DomainError("unchanged", "Choose two different variants.", field="to_variant")
        return {"from_variant": old.pk, "to_variant": new.pk}
    if operation == Operation.CHANGE_PRICE:
        variant = _variant(shop, params.get("variant"), field="variant")
        return {"variant": variant.pk, "price": str(_check_price(params.get("price")))}
    return {}


def bulk_job_create(*, shop: Shop, user, operation: str, params: dict, subscription_ids) -> BulkJob:
    """Make the job (the selection fixed now) and hand it to a worker once committed."""
    from console.tasks import run_bulk_job

    clean = clean_params(shop, operation, params)
    ids = sorted(set(int(pk) for pk in subscription_ids))
    if not ids:
        raise DomainError("empty_selection", "Select at least one subscription.", field="subscriptions")
    with transaction.atomic():
        job = BulkJob.objects.create(
            shop=shop,
            created_by=user,
            actor_name=user.get_username(),
            operation=operation,
            params=clean,
            subscription_ids=ids,
            total=len(ids),
        )
        record_staff_action(
            user=user,
            shop=shop,
            action="bulk_operation_started",
            description=f"Bulk operation started: {job.get_operation_display()} on {len(ids)} subscription(s)",
            job_id=job.pk,
            operation=operation,
        )
        transaction.on_commit(lambda: run_bulk_job.delay(job.pk))
    return job


def _apply(job: BulkJob, subscription: Subscription, actor: Actor) -> None:
    op, params = job.operation, job.params
    if op == Operation.SKIP:
        services.subscription_skip(subscription=subscription, actor=actor)
    elif op == Operation.PAUSE:
        services.subscription_pause(subscription=subscription, actor=actor)
    elif op == Operation.RESUME:
        services.subscription_activate(subscription=subscription, actor=actor)
    elif op == Operation.CANCEL:
        services.subscription_cancel(subscription=subscription, actor=actor, reason=params["reason"])
    elif op == Operation.SET_NEXT_BILLING_DATE:
        services.subscription_set_next_billing_date(
            subscription=subscription, actor=actor, date=dt.date.fromisoformat(params["date"])
        )
    elif op == Operation.SWAP_VARIANT:
        old = _variant(job.shop, params["from_variant"], field="from_variant")
        line = subscription.lines.filter(variant=old).first()
        if line is None:
            raise DomainError(
                "not_found", f"This subscription has no line of {old.sku}.", field="from_variant"
            )
        services.subscription_swap_variant(
            subscription=subscription,
            actor=actor,
            line=line,
            variant=_variant(job.shop, params["to_variant"], field="to_variant"),
        )
    elif op == Operation.CHANGE_PRICE:
        subscription_change_price(
            subscription=subscription,
            actor=actor,
            variant=_variant(job.shop, params["variant"], field="variant"),
            unit_price=Decimal(params["price"]),
        )


def _save_progress(job: BulkJob, *fields: str) -> None:
    BulkJob.objects.filter(pk=job.pk).update(**{f: getattr(job, f) for f in fields})


def bulk_job_run(*, job_id: int) -> BulkJob:
    """Work through the job's subscriptions from where it stopped; idempotent once done."""
    job = BulkJob.objects.select_related("shop").get(pk=job_id)
    if job.status == BulkJob.Status.DONE:
        return job
    job.status = BulkJob.Status.RUNNING
    job.started_at = job.started_at or timezone.now()
    _save_progress(job, "status", "started_at")
    actor = Actor("admin", job.actor_name)
    for index in range(job.processed, job.total):
        subscription_id = job.subscription_ids[index]
        subscription = Subscription.objects.filter(shop=job.shop, pk=subscription_id).first()
        try:
            if subscription is None:
                raise DomainError("not_found", "The subscription no longer exists.")
            _apply(job, subscription, actor)
        except DomainError as error:
            job.failed += 1
            job.failures.append({"subscription_id": subscription_id, "reason": error.message})
        else:
            job.succeeded += 1
        job.processed = index + 1
        if job.processed % PROGRESS_EVERY == 0:
            _save_progress(job, "processed", "succeeded", "failed", "failures")
    job.status = BulkJob.Status.DONE
    job.finished_at = timezone.now()
    _save_progress(job, "processed", "succeeded", "failed", "failures", "status", "finished_at")
    return job
