"""Streaming CSV exports: rows go out as the database hands them over, a chunk at a time, so an
export of hundreds of thousands of rows never sits in memory."""

import csv
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from django.db.models import DateTimeField

from subscriptions.models import Customer, Order, Subscription

CHUNK = 2000
UTC = ZoneInfo("UTC")

# kind -> (model, [(column header, queryset path)])
EXPORTS: dict[str, tuple[type, list[tuple[str, str]]]] = {
    "customers": (
        Customer,
        [
            ("id", "id"),
            ("email", "email"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("phone", "phone"),
            ("subscriber_since", "subscriber_since"),
            ("created_at", "created_at"),
            ("external_id", "external_id"),
        ],
    ),
    "subscriptions": (
        Subscription,
        [
            ("id", "id"),
            ("status", "status"),
            ("email", "customer__email"),
            ("first_name", "customer__first_name"),
            ("last_name", "customer__last_name"),
            ("program", "plan__program__name"),
            ("plan_id", "plan_id"),
            ("plan", "plan__name"),
            ("next_billing_date", "next_billing_date"),
            ("currency", "currency"),
            ("created_at", "created_at"),
            ("cancelled_at", "cancelled_at"),
            ("cancel_reason", "cancel_reason"),
            ("external_id", "external_id"),
        ],
    ),
    "orders": (
        Order,
        [
            ("id", "id"),
            ("created_at", "created_at"),
            ("billing_date", "billing_date"),
            ("status", "status"),
            ("email", "customer__email"),
            ("subscription_id", "subscription_id"),
            ("currency", "currency"),
            ("subtotal", "subtotal"),
            ("discount_total", "discount_total"),
            ("total", "total"),
            ("paid_at", "paid_at"),
        ],
    ),
}


class _Echo:
    """csv.writer writes into this and gets the line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def csv_rows(kind: str, queryset, *, tz=UTC) -> Iterator[str]:
    """The header line, then one line per row of `queryset` (already scoped and filtered)."""
    model, columns = EXPORTS[kind]
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    paths = [path for _, path in columns]
    rows: Iterable[tuple] = queryset.order_by("pk").values_list(*paths).iterator(chunk_size=CHUNK)
    # Only the date-time columns need work (shown in the shop's timezone); csv writes None as "".
    moments = [i for i, path in enumerate(paths) if _is_datetime(model, path)]
    if not moments:
        for row in rows:
            yield writer.writerow(row)
        return
    for row in rows:
        row = list(row)
        for i in moments:
            if row[i] is not None:
                row[i] = row[i].astimezone(tz).isoformat(timespec="seconds")
        yield writer.writerow(row)


def _is_datetime(model, path: str) -> bool:
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return isinstance(model._meta.get_field(name), DateTimeField)
