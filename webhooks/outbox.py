"""The outbox API the domain apps use: `emit` one event inside the caller's transaction."""

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from webhooks.models import OutboxEvent

EVENT_VERSION = 1


def _jsonable(data: Mapping[str, Any]) -> dict:
    """Round-trip through Django's encoder so Decimals, dates and UUIDs are stored as strings."""
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _event(*, shop_id: int, shop: str, type: str, actor: str, data: Mapping[str, Any]) -> OutboxEvent:
    event_id = uuid.uuid4()
    occurred_at = timezone.now()
    envelope = {
        "id": str(event_id),
        "type": type,
        "version": EVENT_VERSION,
        "occurred_at": occurred_at.isoformat(),
        "shop": shop,
        "actor": actor,
        "data": _jsonable(data),
    }
    return OutboxEvent(
        id=event_id,
        shop_id=shop_id,
        type=type,
        version=EVENT_VERSION,
        actor=actor,
        payload=envelope,
        occurred_at=occurred_at,
    )


def _atomic_connection():
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        raise RuntimeError("emit() must be called inside transaction.atomic() with the change it describes")
    return conn


def emit(*, shop_id: int, shop: str, type: str, actor: str, data: Mapping[str, Any]) -> OutboxEvent:
    """Write one event. Must run inside the transaction of the change it describes, so a rollback
    removes the event too and nothing is ever announced that did not happen."""
    conn = _atomic_connection()
    event = _event(shop_id=shop_id, shop=shop, type=type, actor=actor, data=data)
    _relay_after_commit(conn)
    event.save(force_insert=True)
    return event


def emit_many(events: list[Mapping[str, Any]]) -> list[OutboxEvent]:
    """`emit` for many events at once (each a dict of emit's arguments), in one INSERT: for batch
    work such as a billing run. Same rules: inside the transaction of the changes they describe;
    they keep their order."""
    conn = _atomic_connection()
    rows = [_event(**event) for event in events]
    if rows:
        _relay_after_commit(conn)
        OutboxEvent.objects.bulk_create(rows)
    return rows


def _kick_relay() -> None:
    from webhooks.tasks import relay_task

    try:
        relay_task.delay()
    except Exception:  # broker unreachable: the periodic sweep relays it
        logging.getLogger(__name__).warning(
            "could not enqueue the relay; the sweep will run it", exc_info=True
        )


def _relay_after_commit(conn) -> None:
    """Relay right after commit, once per transaction however many events it emits (a rolled-back
    transaction drops the callback with its events). The periodic sweep is the safety net."""
    if any(entry[1] is _kick_relay for entry in conn.run_on_commit):
        return
    transaction.on_commit(_kick_relay)
