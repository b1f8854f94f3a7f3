"""The outbox API: `emit` writes one self-describing event inside the caller's transaction."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from webhooks.models import OutboxEvent
from webhooks.outbox import EVENT_VERSION, emit

NOW = dt.datetime(2025, 1, 15, 15, 0, tzinfo=dt.UTC)


def emit_one(**overrides) -> OutboxEvent:
    kwargs = {
        "shop_id": 7,
        "shop": "beans.example",
        "type": "subscription.skipped",
        "actor": "integration:gorgias",
        "data": {"skipped_date": "2025-02-10"},
    }
    return emit(**{**kwargs, **overrides})


@pytest.mark.django_db
class TestEmit:
    def test_writes_one_unrelayed_row_with_its_envelope(self):
        with time_machine.travel(NOW, tick=False):
            event = emit_one()

        row = OutboxEvent.objects.get()
        assert row.pk == event.pk
        assert (row.shop_id, row.type, row.actor, row.version) == (
            7,
            "subscription.skipped",
            "integration:gorgias",
            EVENT_VERSION,
        )
        assert row.occurred_at == NOW
        assert row.relayed_at is None
        assert row.payload == {
            "id": str(row.pk),
            "type": "subscription.skipped",
            "version": 1,
            "occurred_at": "2025-01-15T15:00:00+00:00",
            "shop": "beans.example",
            "actor": "integration:gorgias",
            "data": {"skipped_date": "2025-02-10"},
        }

    def test_data_is_stored_as_plain_json(self):
        ref = uuid.uuid4()
        emit_one(
            data={
                "price": Decimal("18.50"),
                "date": dt.date(2025, 2, 10),
                "at": dt.datetime(2025, 1, 15, 15, 0, tzinfo=dt.UTC),
                "ref": ref,
                "items": [{"price": Decimal("0.10"), "quantity": 2}],
            }
        )

        data = OutboxEvent.objects.get().payload["data"]
        assert data == {
            "price": "18.50",
            "date": "2025-02-10",
            "at": "2025-01-15T15:00:00Z",
            "ref": str(ref),
            "items": [{"price": "0.10", "quantity": 2}],
        }

    def test_later_changes_to_the_callers_data_do_not_alter_the_event(self):
        data = {"items": [{"sku": "BEANS"}]}
        emit_one(data=data)
        data["items"][0]["sku"] = "TEA"
        assert OutboxEvent.objects.get().payload["data"] == {"items": [{"sku": "BEANS"}]}

    def test_every_event_gets_its_own_id(self):
        first, second = emit_one(), emit_one()
        assert first.pk != second.pk
        assert first.payload["id"] != second.payload["id"]

    def test_pending_events_are_in_order_of_occurrence(self, time_machine):
        time_machine.move_to(NOW, tick=False)
        first = emit_one(type="subscription.skipped")
        time_machine.move_to(NOW + dt.timedelta(seconds=1), tick=False)
        second = emit_one(type="subscription.unskipped")
        assert list(OutboxEvent.objects.filter(relayed_at__isnull=True)) == [first, second]


@pytest.mark.django_db(transaction=True)
class TestTransaction:
    def test_emit_outside_a_transaction_raises_and_writes_nothing(self):
        with pytest.raises(RuntimeError, match="inside transaction.atomic"):
            emit_one()
        assert not OutboxEvent.objects.exists()

    def test_event_is_rolled_back_with_its_transaction(self):
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            emit_one()
            1 / 0  # noqa: B018
        assert not OutboxEvent.objects.exists()

    def test_event_commits_with_its_transaction(self):
        with transaction.atomic():
            emit_one()
        assert OutboxEvent.objects.count() == 1
