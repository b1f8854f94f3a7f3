"""The database connection dies in the middle of work: nothing is lost and nothing is done twice once
it is back (the worker's next run picks up where it stopped).

The drop is injected with `connection.execute_wrapper`: the Nth statement of a kind fails with the
OperationalError a lost PostgreSQL connection raises, the transaction it was in rolls back, the worker
dies (the exception escapes), and a new connection runs the work again. Committed transactions
(`transaction=True`) so what survives the drop is what a real crash leaves behind.

Killing a Celery worker with SIGKILL mid-delivery: tests/webhooks/test_worker_kill.py; two billing
processes at once and a renewal whose worker died before charging: tests/subscriptions/
test_billing_concurrency.py."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection

from subscriptions.models import Order, PaymentAttempt, SandboxCharge, Subscription
from subscriptions.services import billing
from tests import factories as f
from webhooks import engine
from webhooks.models import Delivery, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

UTC = ZoneInfo("UTC")
RUN_DATE = dt.date(2025, 3, 1)
SUBSCRIPTIONS = 12


class DropConnection:
    """Fail the `nth` statement whose SQL contains all of `words` (case-insensitive), once."""

    def __init__(self, nth: int, *words: str):
        self.nth, self.words, self.seen, self.dropped = nth, [w.lower() for w in words], 0, False

    def __call__(self, execute, sql, params, many, context):
        if not self.dropped and all(w in sql.lower() for w in self.words):
            self.seen += 1
            if self.seen == self.nth:
                self.dropped = True
                raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


def _crash_once(drop: DropConnection, work, **kwargs) -> None:
    with connection.execute_wrapper(drop):
        try:
            work(**kwargs)
        except OperationalError:
            pass
    assert drop.dropped, "the connection was never dropped: the test proves nothing"
    connection.close()  # the dead worker's connection is gone; the next run opens a new one


@pytest.mark.parametrize(
    "words, nth",
    [
        (("insert", "subscriptions_order"), 1),  # while starting the renewals
        (("insert", "subscriptions_paymentattempt"), 1),  # while recording the charges
        (("update", "subscriptions_paymentattempt"), 2),  # while settling the gateway's answers
        (("insert", "webhooks_outboxevent"), 1),  # while emitting the renewal events
    ],
)
def test_a_billing_run_cut_by_a_lost_connection_bills_everyone_once_when_rerun(time_machine, words, nth):
    time_machine.move_to(dt.datetime(2025, 3, 1, 15, 0, tzinfo=UTC), tick=True)
    shop = f.ShopFactory(timezone="America/New_York")
    subs = [f.SubscriptionFactory(shop=shop, next_billing_date=RUN_DATE) for _ in range(SUBSCRIPTIONS)]

    _crash_once(DropConnection(nth, *words), billing.shop_run_billing, shop=shop, run_date=RUN_DATE)
    billing.shop_run_billing(shop=shop, run_date=RUN_DATE)
    # A charge whose answer was lost is asked again (same idempotency key) once its lease has run out.
    time_machine.shift(billing.CHARGE_LEASE + dt.timedelta(minutes=1))
    billing.shop_run_billing(shop=shop, run_date=RUN_DATE)
    billing.shop_run_billing(shop=shop, run_date=RUN_DATE)  # and nothing more happens after that

    orders = Order.objects.filter(shop=shop)
    assert orders.count() == SUBSCRIPTIONS  # nothing lost
    assert set(orders.values_list("status", flat=True)) == {Order.Status.PAID}
    assert Counter(orders.values_list("subscription_id", flat=True)) == Counter({s.pk: 1 for s in subs})
    attempts = PaymentAttempt.objects.filter(order__shop=shop)
    assert attempts.filter(status=PaymentAttempt.Status.SUCCEEDED).count() == SUBSCRIPTIONS
    keys = list(attempts.values_list("idempotency_key", flat=True))
    assert (
        SandboxCharge.objects.filter(idempotency_key__in=keys, outcome="succeeded").count() == SUBSCRIPTIONS
    )
    events = OutboxEvent.objects.filter(shop_id=shop.pk, type="subscription.transaction_succeeded")
    assert events.count() == SUBSCRIPTIONS  # one event per renewal: none lost, none twice
    for sub in Subscription.objects.filter(pk__in=[s.pk for s in subs]):
        assert sub.order_count == 1 and sub.next_billing_date > RUN_DATE


@pytest.mark.parametrize(
    "words, nth",
    [
        (("insert", 'webhooks_delivery"'), 1),  # while the relay fans events out
        (("update", "webhooks_outboxevent"), 1),  # while the relay marks events relayed
        (("insert", "webhooks_deliveryattempt"), 1),  # after a POST was sent, recording it
    ],
)
def test_a_relay_and_delivery_cut_by_a_lost_connection_deliver_every_event_when_rerun(
    receiver, time_machine, settings, monkeypatch, words, nth
):
    from django.db import transaction

    from webhooks import outbox
    from webhooks.services import endpoint_create

    time_machine.move_to(dt.datetime(2025, 3, 1, 15, 0, tzinfo=UTC), tick=True)
    monkeypatch.setattr(outbox, "_kick_relay", lambda: None)  # the worker below does the relaying
    shop = f.ShopFactory()
    endpoint_create(shop_id=shop.pk, url=receiver.url, events=["subscription.skipped"])
    events = []
    for n in range(6):
        with transaction.atomic():
            events.append(
                outbox.emit(
                    shop_id=shop.pk,
                    shop=shop.domain,
                    type="subscription.skipped",
                    actor="test",
                    data={"n": n},
                )
            )

    def work():
        engine.relay(enqueue=False)
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING).values_list("pk", flat=True)
        engine.deliver_many(list(pending))

    _crash_once(DropConnection(nth, *words), work)
    work()
    # A delivery claimed by the dead worker is handed out again once its lease has run out.
    time_machine.shift(dt.timedelta(seconds=settings.WEBHOOKS_DELIVERY_LEASE_SECONDS + 60))
    engine.sweep(enqueue=False)
    work()

    deliveries = Delivery.objects.filter(event_id__in=[e.pk for e in events])
    assert deliveries.count() == len(events)  # one per event and endpoint: none lost, none twice
    assert set(deliveries.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    sent = [r["headers"].get("webhook-id") or r["headers"].get("Webhook-Id") for r in receiver.requests]
    # At-least-once on the wire: a POST whose recording was lost is sent again with the same
    # webhook-id (the delivery's id), so the merchant's receiver drops the copy.
    assert set(sent) == {str(pk) for pk in deliveries.values_list("pk", flat=True)}
