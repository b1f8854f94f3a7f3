"""Helpers every service shares: locking, activity log, checks that raise domain errors."""

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import OperationalError, connection

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, Customer, Shop, Subscription


def lock_subscription(subscription: Subscription) -> Subscription:
    """Re-read the subscription under a row lock so concurrent actions apply one after another."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("shop", "customer", "plan__program")
        .get(pk=subscription.pk)
    )


T = TypeVar("T")
LOCKED_RETRY_SECONDS = 60


def retry_when_locked(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one whole transaction again while SQLite answers "database is locked".

    SQLite lets one writer in at a time, and a transaction that read before another process
    committed cannot write at all: it fails at once, whatever the busy timeout. `work` must be a
    complete transaction (it rolled back, so running it again is safe). Inside an outer
    transaction, or on PostgreSQL (which waits on row locks instead), errors are raised as they are.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return work(*args, **kwargs)
    deadline = time.monotonic() + LOCKED_RETRY_SECONDS
    pause = 0.005
    while True:
        try:
            return work(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause * (0.5 + random.random()))
        pause = min(pause * 2, 0.25)


def activity_entry(
    *,
    shop: Shop,
    actor: Actor,
    action: str,
    description: str,
    subscription: Subscription | None = None,
    customer: Customer | None = None,
    details: dict[str, Any] | None = None,
) -> ActivityLog:
    """An unsaved activity row (for `bulk_create` by batch work); `log_activity` saves one."""
    return ActivityLog(
        shop=shop,
        subscription=subscription,
        customer=customer or (subscription.customer if subscription else None),
        actor_type=actor.type,
        actor_name=actor.name,
        action=action,
        description=description[:500],
        details=details or {},
    )


def log_activity(**kwargs) -> ActivityLog:
    entry = activity_entry(**kwargs)
    entry.save(force_insert=True)
    return entry


def require_status(subscription: Subscription, *allowed: str, action: str) -> None:
    if subscription.status not in allowed:
        raise DomainError(
            f"subscription_{subscription.status.lower()}",
            f"Cannot {action}: the subscription is {subscription.status}.",
            field="status",
        )


def require_same_shop(subscription: Subscription, obj, *, field: str, label: str) -> None:
    if obj is None or obj.shop_id != subscription.shop_id:
        raise DomainError("not_found", f"That {label} does not exist in this shop.", field=field)


def require_future_date(shop: Shop, date: dt.date, *, field: str, allow_today: bool = False) -> None:
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise DomainError("invalid_date", "Give a date as YYYY-MM-DD.", field=field)
    today = shop.local_today()
    if date < today or (date == today and not allow_today):
        raise DomainError(
            "date_in_past",
            f"The date {date.isoformat()} is not in the future (today is {today.isoformat()} in the shop's timezone).",
            field=field,
        )


def fmt(date: dt.date | None) -> str:
    return date.isoformat() if date else "none"


ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "line1",
    "line2",
    "city",
    "province",
    "postal_code",
    "country",
    "phone",
)


def clean_address(fields: dict[str, Any]) -> dict[str, str]:
    """Validate address input: known fields only, line1/city/country required, ISO country code."""
    unknown = set(fields) - set(ADDRESS_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError("unknown_field", f"Unknown address field '{name}'.", field=name)
    clean = {k: str(fields.get(k) or "").strip() for k in ADDRESS_FIELDS}
    for required in ("line1", "city", "country"):
        if not clean[required]:
            raise DomainError("required", f"The address {required} is required.", field=required)
    clean["country"] = clean["country"].upper()
    if len(clean["country"]) != 2 or not clean["country"].isalpha():
        raise DomainError("invalid_country", "Country must be a two-letter code such as US.", field="country")
    return clean
