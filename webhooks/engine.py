"""The delivery engine: outbox relay, delivery with retries, replay.

- `relay()` turns committed outbox events into one `Delivery` per interested destination. Rows are
  claimed with `select_for_update(skip_locked=True)`, and a unique constraint on (event, destination)
  makes two relays running at once create each delivery once.
- `deliver()` claims one due delivery with a short lease, sends it outside any transaction, records
  the attempt, then schedules the next try or settles it. A worker killed mid-send leaves the lease
  to expire; the sweep hands the delivery to another worker, which sends it with the same id.
- Each destination kind (merchant webhook endpoint, each partner integration) registers a
  `Destination` with its own `targets` and `send`; the engine knows nothing else about them.
"""

import datetime as dt
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from webhooks.models import Delivery, DeliveryAttempt, OutboxEvent

log = logging.getLogger(__name__)

# Delay before attempt 2, 3, ... (attempt 1 is immediate): about 3 days in all.
RETRY_DELAYS = [
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.1
MAX_RETRY_AFTER = dt.timedelta(hours=24)


def lease() -> dt.timedelta:
    """How long a claimed delivery stays with its worker (`WEBHOOKS_DELIVERY_LEASE_SECONDS`)."""
    return dt.timedelta(seconds=settings.WEBHOOKS_DELIVERY_LEASE_SECONDS)


@dataclass
class SendResult:
    """What a destination's sender reports. `outcome` is one of:
    delivered | retry (try again later) | fail (permanent, stop) | gone (destination asked us to stop:
    disable it) | hold (destination needs attention: keep the delivery, paused, until it is fixed) |
    defer (not now, without counting an attempt: come back after `retry_after`)."""

    outcome: str
    status_code: int | None = None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0
    retry_after: dt.timedelta | None = None


@dataclass(frozen=True)
class Destination:
    kind: str
    # ids of this kind's destinations interested in each event, for a batch of events
    targets: Callable[[list[OutboxEvent]], dict[object, list[str]]]
    send: Callable[[Delivery, OutboxEvent], SendResult]
    # called after each attempt: (destination_id, result, delivery) -> None (health bookkeeping)
    after_attempt: Callable[[str, SendResult, Delivery], None] | None = None
    # called once per batch before sending: load what `send` needs for all of them in one go
    prepare: Callable[[list[Delivery]], None] | None = None


_DESTINATIONS: dict[str, Destination] = {}


def register_destination(destination: Destination) -> None:
    _DESTINATIONS[destination.kind] = destination


def destinations() -> dict[str, Destination]:
    return dict(_DESTINATIONS)


BATCH_SIZE = 100


def _enqueue(delivery_ids: Iterable) -> None:
    """One task per destination and chunk: a worker sends a batch to one endpoint with a handful
    of queries, and a slow endpoint only ever holds up its own deliveries."""
    from webhooks.tasks import deliver_task

    ids = [str(i) for i in delivery_ids]
    if not ids:
        return
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pk, kind, destination_id in Delivery.objects.filter(pk__in=ids).values_list(
        "pk", "destination_kind", "destination_id"
    ):
        groups[(kind, destination_id)].append(str(pk))
    for chunk_ids in groups.values():
        for start in range(0, len(chunk_ids), BATCH_SIZE):
            chunk = chunk_ids[start : start + BATCH_SIZE]
            try:
                deliver_task.delay(chunk if len(chunk) > 1 else chunk[0])
            except Exception:  # broker down: the periodic sweep delivers them later
                log.warning(
                    "could not enqueue %d deliveries; the sweep will pick them up", len(chunk), exc_info=True
                )


def enqueue(delivery_ids: Iterable) -> None:
    """Hand deliveries to the workers now (call after commit); the sweep is the safety net."""
    _enqueue(delivery_ids)


# ---------------------------------------------------------------- relay


def relay(*, batch_size: int = 500, enqueue: bool = True) -> int:
    """Create the deliveries of every unrelayed event; returns how many events were relayed."""
    relayed = 0
    while True:
        created: list = []
        with transaction.atomic():
            events = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(relayed_at__isnull=True)
                .order_by("occurred_at")[:batch_size]
            )
            if not events:
                break
            rows = []
            by_id = {event.pk: event for event in events}
            for destination in _DESTINATIONS.values():
                for event_id, target_ids in destination.targets(events).items():
                    event = by_id[event_id]
                    for target in target_ids:
                        rows.append(
                            Delivery(
                                event=event,
                                shop_id=event.shop_id,
                                destination_kind=destination.kind,
                                destination_id=str(target),
                                event_type=event.type,
                                next_attempt_at=timezone.now(),
                            )
                        )
            Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
            OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=timezone.now())
            if enqueue and rows:
                # Hand out the rows that are in the table, not the ones built here: a row that
                # conflicted (left by a relay that died before marking its events) keeps its own id.
                created = list(
                    Delivery.objects.filter(event__in=events, status=Delivery.Status.PENDING).values_list(
                        "pk", flat=True
                    )
                )
                transaction.on_commit(lambda ids=created: _enqueue(ids))
        relayed += len(events)
        if len(events) < batch_size:
            break
    return relayed


# ---------------------------------------------------------------- deliver


def _next_delay(attempt_number: int) -> dt.timedelta:
    base = RETRY_DELAYS[attempt_number - 1]
    return base * (1 + random.uniform(-JITTER, JITTER))


def _claim(delivery_ids: list) -> list[Delivery]:
    """Take the deliveries that are due and that nobody holds. The conditional UPDATE is the claim:
    of two workers racing for one delivery exactly one changes its row (its lease carries this
    worker's own timestamp, which then finds the rows it won). No transaction stays open."""
    now = timezone.now()
    lease_until = now + lease() + dt.timedelta(microseconds=random.randint(0, 999_999))
    claimed = (
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(attempt_count=F("attempt_count") + 1, locked_until=lease_until)
    )
    if not claimed:
        return []
    return list(
        Delivery.objects.select_related("event").filter(pk__in=delivery_ids, locked_until=lease_until)
    )


def deliver_many(delivery_ids) -> dict[str, str]:
    """One attempt of each given delivery that is due and free; returns {id: new status}."""
    batch = _claim(list(delivery_ids))
    by_kind: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in batch:
        by_kind[delivery.destination_kind].append(delivery)
    outcomes: list[tuple[Delivery, SendResult, dt.datetime]] = []
    for kind, deliveries in by_kind.items():
        destination = _DESTINATIONS.get(kind)
        if destination is not None and destination.prepare is not None:
            destination.prepare(deliveries)
        for delivery in deliveries:
            started = timezone.now()
            if destination is None:
                result = SendResult("hold", error=f"no destination of kind {kind} is registered")
            else:
                try:
                    result = destination.send(delivery, delivery.event)
                except Exception as exc:  # a sender bug must not lose the delivery: retry it
                    log.exception("sender for %s failed", kind)
                    result = SendResult("retry", error=f"{exc.__class__.__name__}: {exc}"[:500])
            outcomes.append((delivery, result, started))
    _settle_many(outcomes)
    for delivery, result, _ in outcomes:
        destination = _DESTINATIONS.get(delivery.destination_kind)
        if destination is not None and destination.after_attempt is not None:
            destination.after_attempt(delivery.destination_id, result, delivery)
    return {str(d.pk): d.status for d, _, _ in outcomes}


def deliver(delivery_id) -> str | None:
    """One attempt of one delivery, if it is due and nobody else holds it. Returns its new status."""
    return deliver_many([delivery_id]).get(str(delivery_id))


_SETTLED_FIELDS = (
    "status",
    "attempt_count",
    "delivered_at",
    "next_attempt_at",
    "locked_until",
    "last_status_code",
    "last_error",
)


def _settle_many(outcomes: list[tuple[Delivery, SendResult, dt.datetime]]) -> None:
    """Record every attempt and the deliveries' new state in one transaction (a few statements for
    the whole batch). Attempts are numbered after every earlier one: a replay restarts the retry
    schedule but keeps the earlier series in the log."""
    if not outcomes:
        return
    now = timezone.now()
    deferred = [(d, r) for d, r, _ in outcomes if r.outcome == "defer"]
    settled = [(d, r, started) for d, r, started in outcomes if r.outcome != "defer"]
    for delivery, result in deferred:
        # Not an attempt (quiet hours and the like): come back later without using up a retry.
        delivery.attempt_count = max(0, delivery.attempt_count - 1)
        delivery.next_attempt_at = now + (result.retry_after or RETRY_DELAYS[0])
        delivery.locked_until = None
        delivery.last_error = (result.error or "")[:500]
    last_numbers = (
        dict(
            DeliveryAttempt.objects.filter(delivery__in=[d for d, _, _ in settled])
            .values("delivery")
            .annotate(last=Max("number"))
            .values_list("delivery", "last")
        )
        if settled
        else {}
    )
    attempts = []
    for delivery, result, started in settled:
        attempts.append(
            DeliveryAttempt(
                delivery=delivery,
                number=(last_numbers.get(delivery.pk) or 0) + 1,
                started_at=started,
                duration_ms=result.duration_ms,
                status_code=result.status_code,
                response_excerpt=(result.excerpt or "")[:2048],
                error=(result.error or "")[:500],
                succeeded=result.outcome == "delivered",
            )
        )
        delivery.last_status_code = result.status_code
        delivery.last_error = (result.error or "")[:500]
        delivery.locked_until = None
        if result.outcome == "delivered":
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif result.outcome == "hold":
            delivery.status = Delivery.Status.PAUSED
            delivery.next_attempt_at = None
        elif result.outcome == "retry" and delivery.attempt_count < MAX_ATTEMPTS:
            delay = _next_delay(delivery.attempt_count)
            if result.retry_after is not None:
                delay = min(max(result.retry_after, dt.timedelta(seconds=1)), MAX_RETRY_AFTER)
            delivery.next_attempt_at = now + delay
        else:  # fail, gone, or out of attempts
            delivery.status = Delivery.Status.FAILED
            delivery.next_attempt_at = None
    # Deliveries that end in the same state (typically: all delivered, same answer) share one
    # UPDATE; Django's bulk_update would build a CASE per row and field, far slower here.
    same_state: dict[tuple, list] = defaultdict(list)
    for delivery, _, _ in outcomes:
        values = tuple((name, getattr(delivery, name)) for name in _SETTLED_FIELDS)
        same_state[values].append(delivery.pk)
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(attempts)
        for values, pks in same_state.items():
            Delivery.objects.filter(pk__in=pks).update(**dict(values))
    soon = [
        d
        for d, _, _ in outcomes
        if d.status == Delivery.Status.PENDING
        and d.next_attempt_at is not None
        and (d.next_attempt_at - timezone.now()).total_seconds() <= 120
    ]
    if soon:
        from webhooks.tasks import deliver_task

        # Short waits go straight back on the queue; long ones are left to the periodic sweep so
        # no message sits in the broker for hours.
        for delivery in soon:
            countdown = max(0.0, (delivery.next_attempt_at - timezone.now()).total_seconds())
            try:
                deliver_task.apply_async((str(delivery.pk),), countdown=countdown)
            except Exception:
                log.warning("could not enqueue retry of %s; the sweep will", delivery.pk, exc_info=True)


# ---------------------------------------------------------------- sweep, replay, resume, prune


def sweep(*, limit: int = 1000, enqueue: bool = True) -> list:
    """Catch up: relay unrelayed events and hand out every due delivery nobody holds (missed
    messages, killed workers, retries too far ahead to keep in the broker)."""
    relay(enqueue=enqueue)
    now = timezone.now()
    due = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if enqueue:
        _enqueue(due)
    return due


def replay(deliveries) -> int:
    """Send again (a new series of attempts, same webhook-id). Accepts a queryset or a list."""
    ids = [d.pk if isinstance(d, Delivery) else d for d in deliveries]
    with transaction.atomic():
        count = (
            Delivery.objects.filter(pk__in=ids)
            .exclude(status=Delivery.Status.PENDING, locked_until__gt=timezone.now())
            .update(
                status=Delivery.Status.PENDING,
                attempt_count=0,
                next_attempt_at=timezone.now(),
                locked_until=None,
                delivered_at=None,
            )
        )
        transaction.on_commit(lambda: _enqueue(ids))
    return count


def replay_failed_since(*, destination_kind: str, destination_id: str, since: dt.datetime) -> int:
    failed = Delivery.objects.filter(
        destination_kind=destination_kind,
        destination_id=str(destination_id),
        status=Delivery.Status.FAILED,
        created_at__gte=since,
    ).values_list("pk", flat=True)
    return replay(list(failed))


def resume_held(*, destination_kind: str, destination_id: str) -> int:
    """A destination was fixed: its held deliveries flow again."""
    ids = list(
        Delivery.objects.filter(
            destination_kind=destination_kind,
            destination_id=str(destination_id),
            status=Delivery.Status.PAUSED,
        ).values_list("pk", flat=True)
    )
    return replay(ids)


def prune(*, older_than: dt.timedelta) -> int:
    """Forget delivered payloads past the retention period: settled deliveries and their events."""
    cutoff = timezone.now() - older_than
    deleted, _ = Delivery.objects.filter(status=Delivery.Status.SUCCEEDED, delivered_at__lt=cutoff).delete()
    OutboxEvent.objects.filter(relayed_at__lt=cutoff, deliveries__isnull=True).delete()
    return deleted


def targets_by_shop(events: list[OutboxEvent]) -> dict[int, list[OutboxEvent]]:
    grouped: dict[int, list[OutboxEvent]] = defaultdict(list)
    for event in events:
        grouped[event.shop_id].append(event)
    return grouped
