"""Delivery guarantees of the engine: each delivery is created once however many relays run, a slow
or dead endpoint holds up nobody else, and the Celery tasks are safe to run twice.

(A worker killed mid-delivery is covered out of process in test_worker_kill.py.)"""

import datetime as dt
import socket
import threading
import time
import uuid

import pytest
from django.db import OperationalError, connection, connections
from django.utils import timezone

from config.celery import app
from tests import factories as f
from tests.webhooks.receiver import Receiver
from webhooks import engine, http, tasks
from webhooks.models import Delivery, DeliveryAttempt, OutboxEvent, WebhookEndpoint

WAIT = 30  # seconds: upper bound for anything a test waits on
EVENT_TYPE = "subscription.skipped"


def _endpoint(shop, url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(shop_id=shop.pk, url=url, events=[EVENT_TYPE])


def _events(shop, count: int) -> list[OutboxEvent]:
    start = timezone.now()
    return OutboxEvent.objects.bulk_create(
        OutboxEvent(
            id=uuid.uuid4(),
            shop_id=shop.pk,
            type=EVENT_TYPE,
            actor="admin",
            payload={"type": EVENT_TYPE, "data": {"n": n}},
            occurred_at=start + dt.timedelta(microseconds=n),
        )
        for n in range(count)
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- relay


def _relay_racing() -> int:
    """One relay process. On PostgreSQL the two run truly at once (skip-locked claims). SQLite lets
    one writer in at a time and refuses the other ("locked") instead of queueing it; that relay's
    transaction rolls back and it runs again, as its task or the sweep would."""
    deadline = time.monotonic() + WAIT
    relayed = 0
    while True:
        try:
            relayed += engine.relay(batch_size=20, enqueue=False)
            return relayed
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_the_same_time_create_each_delivery_once():
    shop = f.ShopFactory()
    endpoints = [_endpoint(shop, f"https://hooks.example/{n}") for n in range(2)]
    events = _events(shop, 200)
    barrier = threading.Barrier(2)
    relayed: list[int] = []
    errors: list[BaseException] = []

    def relay_process():
        try:
            barrier.wait(WAIT)
            relayed.append(_relay_racing())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    pairs = list(Delivery.objects.values_list("event_id", "destination_id"))
    assert len(pairs) == len(set(pairs)) == len(events) * len(endpoints)
    assert set(pairs) == {(e.pk, str(w.pk)) for e in events for w in endpoints}
    assert not OutboxEvent.objects.filter(relayed_at__isnull=True).exists()
    if connection.vendor == "postgresql":
        # Skip-locked claims: every event was taken by exactly one of the two relays.
        assert sum(relayed) == len(events)


def test_a_relay_after_a_crash_between_insert_and_mark_duplicates_nothing(
    db, receiver, django_capture_on_commit_callbacks
):
    shop = f.ShopFactory()
    endpoint = _endpoint(shop, receiver.url)
    [event] = _events(shop, 1)
    # The crashed relay inserted the delivery but died before marking the event relayed.
    existing = Delivery.objects.create(
        event=event,
        shop_id=shop.pk,
        destination_kind="webhook",
        destination_id=str(endpoint.pk),
        event_type=event.type,
        next_attempt_at=timezone.now(),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert engine.relay() == 1

    assert list(Delivery.objects.values_list("pk", flat=True)) == [existing.pk]
    event.refresh_from_db()
    assert event.relayed_at is not None
    # The delivery the crashed relay left behind is the one handed to a worker and sent.
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(existing.pk)]
    existing.refresh_from_db()
    assert existing.status == Delivery.Status.SUCCEEDED


# ---------------------------------------------------------------- independent deliveries


@pytest.mark.django_db(transaction=True)
def test_a_slow_or_dead_endpoint_does_not_hold_up_the_others(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    shop = f.ShopFactory()
    with Receiver() as slow_receiver, Receiver() as fast_receiver:
        slow = _endpoint(shop, slow_receiver.url)
        fast = _endpoint(shop, fast_receiver.url)
        dead = _endpoint(shop, f"http://127.0.0.1:{_closed_port()}/hook")
        _events(shop, 1)

        # Each endpoint's deliveries are a task of their own: the relay never puts two endpoints in
        # one task, so one endpoint's slowness cannot hold up another's.
        handed_out: list = []
        monkeypatch.setattr(tasks.deliver_task, "delay", handed_out.append)
        engine.relay()
        by_endpoint = {d.destination_id: d.pk for d in Delivery.objects.all()}
        assert sorted(handed_out) == sorted(str(pk) for pk in by_endpoint.values())

        # A worker is stuck on the slow endpoint (it answers only when released)...
        slow_receiver.hold = threading.Event()
        slow_status: list = []

        def slow_worker():
            try:
                slow_status.append(engine.deliver(by_endpoint[str(slow.pk)]))
            finally:
                connections.close_all()

        stuck = threading.Thread(target=slow_worker)
        stuck.start()
        try:
            deadline = time.monotonic() + WAIT
            while not slow_receiver.requests:
                assert time.monotonic() < deadline, "the slow endpoint was never called"
                time.sleep(0.01)

            # ... meanwhile another worker finds the dead endpoint refusing, fast, and moves on ...
            started = time.monotonic()
            assert engine.deliver(by_endpoint[str(dead.pk)]) == Delivery.Status.PENDING
            assert time.monotonic() - started < 2  # far inside WEBHOOKS_TIMEOUT_SECONDS
            # ... and delivers to the fast endpoint while the slow one still has not answered.
            assert engine.deliver(by_endpoint[str(fast.pk)]) == Delivery.Status.SUCCEEDED
            assert len(fast_receiver.requests) == 1
            assert stuck.is_alive() and slow_status == []
        finally:
            slow_receiver.hold.set()
            stuck.join(WAIT)

    assert slow_status == [Delivery.Status.SUCCEEDED]
    dead_delivery = Delivery.objects.get(pk=by_endpoint[str(dead.pk)])
    assert dead_delivery.status == Delivery.Status.PENDING
    wait = dead_delivery.next_attempt_at - timezone.now()
    assert dt.timedelta(seconds=1) < wait <= dt.timedelta(seconds=6)  # first retry after ~5 s
    [attempt] = DeliveryAttempt.objects.filter(delivery=dead_delivery)
    assert attempt.status_code is None and "Connection" in attempt.error


# ---------------------------------------------------------------- Celery tasks


def test_every_webhook_task_is_acked_late_and_given_back_when_its_worker_dies():
    webhook_tasks = {name: task for name, task in app.tasks.items() if name.startswith("webhooks.")}
    assert {"webhooks.relay", "webhooks.deliver", "webhooks.sweep", "webhooks.prune"} <= set(webhook_tasks)
    for name, task in webhook_tasks.items():
        assert task.acks_late is True, name
        assert task.reject_on_worker_lost is True, name
    # A worker reserves one message at a time, so a killed worker takes no queued deliveries with it.
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True


def _one_delivery(receiver) -> Delivery:
    shop = f.ShopFactory()
    _endpoint(shop, receiver.url)
    _events(shop, 1)
    engine.relay(enqueue=False)
    return Delivery.objects.get()


def test_the_deliver_task_run_twice_sends_once(db, receiver):
    delivery = _one_delivery(receiver)

    assert tasks.deliver_task.apply(args=(str(delivery.pk),)).get() == Delivery.Status.SUCCEEDED
    assert tasks.deliver_task.apply(args=(str(delivery.pk),)).get() is None

    assert len(receiver.requests) == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_the_deliver_task_sends_nothing_while_another_worker_holds_the_delivery(db, receiver):
    delivery = _one_delivery(receiver)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempt_count=1, locked_until=timezone.now() + dt.timedelta(seconds=60)
    )

    assert tasks.deliver_task.apply(args=(str(delivery.pk),)).get() is None

    assert receiver.requests == []
    assert not DeliveryAttempt.objects.exists()


def test_a_replayed_delivery_that_looks_fresh_still_numbers_its_attempt_after_the_earlier_ones(db, receiver):
    delivery = _one_delivery(receiver)
    # An earlier series left attempt 1 but nothing on the delivery (a destination that reported
    # neither a status code nor an error), and a replay restarted the count.
    DeliveryAttempt.objects.create(delivery=delivery, number=1, started_at=timezone.now(), succeeded=True)

    assert engine.deliver(delivery.pk) == Delivery.Status.SUCCEEDED

    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", flat=True)) == [1, 2]


def test_webhook_connections_send_small_writes_at_once(receiver):
    """The guarded connections dial their own sockets; they must keep urllib3's TCP_NODELAY, or
    Nagle's algorithm and delayed ACKs add ~40 ms to every webhook."""
    connection = http.GuardedHTTPConnection("127.0.0.1", receiver.server.server_address[1], timeout=5)
    sock = connection._new_conn()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        sock.close()
