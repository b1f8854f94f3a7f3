"""Load: gunicorn with several workers on the benchmark database (PostgreSQL when BENCH_DATABASE_URL
points to it, else SQLite, named in the report) takes a mix of traffic for 60 s (quick: 15 s) from
client threads on 127.0.0.1 while this process runs the webhook worker's loop (relay + signed
deliveries to a receiver process):

- vendor API reads: helpdesk lookup by email, one subscription, a page of purchase states;
- vendor API writes: skip / unskip and quantity changes (each thread owns its subscriptions, so every
  write is valid and must succeed);
- portal pages of signed-in customers (subscription page and overview);
- webhook deliveries of the events those writes emit.

Zero errors allowed (any non-2xx, any exception, any event not delivered). Reported: throughput,
p50/p99 latency per kind, and the same threads' throughput on `/healthz` (the baseline, same run)."""

import random
import statistics
import threading
import time
from collections import defaultdict

import requests

from tests.benchmarks.bench_portal_page import _signed_in_cookie
from tests.benchmarks.bench_webhook_fanout import ReceiverProcess
from tests.benchmarks.harness import Context, Result, Server

THREADS = 8
WORKERS = 4
EVENTS = ["subscription.skipped", "subscription.unskipped"]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Load:
    def __init__(self, server: Server, key: str, plans: list[dict], duration: float):
        self.server, self.key, self.plans, self.duration = server, key, plans, duration
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def _request(self, session, kind, method, path, **kwargs):
        started = time.perf_counter()
        try:
            response = session.request(method, f"{self.server.url}{path}", timeout=30, **kwargs)
            ok = 200 <= response.status_code < 300
            problem = f"{kind} {method} {path} -> {response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            ok, problem = False, f"{kind} {method} {path} -> {exc!r}"
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[kind].append(elapsed)
            if not ok:
                self.errors.append(problem)

    def worker(self, plan: dict) -> None:
        rng = random.Random(plan["seed"])
        api = {"x-smartrr-access-token": self.key}
        skipped = {pk: False for pk in plan["subs"]}
        quantity = dict.fromkeys(plan["subs"], 1)
        deadline = time.monotonic() + self.duration
        with requests.Session() as session, requests.Session() as portal:
            portal.headers["Cookie"] = f"sessionid={plan['cookie']}"
            while time.monotonic() < deadline:
                roll = rng.random()
                pk = rng.choice(plan["subs"])
                if roll < 0.40:
                    choice = rng.randrange(3)
                    if choice == 0:
                        email = rng.choice(plan["emails"])
                        path = f"/vendor/order/formatted?filterLike[emailOrName]={email}"
                    elif choice == 1:
                        path = f"/vendor/v1/subscriptions/{pk}"
                    else:
                        path = f"/vendor/purchase-state?pageSize=20&pageNumber={rng.randrange(5)}"
                    self._request(session, "vendor read", "GET", path, headers=api)
                elif roll < 0.65:
                    if rng.random() < 0.6:
                        action = "unskip" if skipped[pk] else "skip"
                        path = f"/vendor/v1/subscriptions/{pk}/actions/{action}"
                        self._request(session, "vendor write", "POST", path, headers=api, json={})
                        skipped[pk] = not skipped[pk]
                    else:
                        quantity[pk] = 3 - quantity[pk]  # 1 <-> 2
                        path = f"/vendor/v1/subscriptions/{pk}/actions/change-quantity"
                        body = {"line": plan["lines"][pk], "quantity": quantity[pk]}
                        self._request(session, "vendor write", "POST", path, headers=api, json=body)
                else:
                    path = (
                        f"/account/subscriptions/{plan['portal_sub']}/" if rng.random() < 0.6 else "/account/"
                    )
                    self._request(portal, "portal page", "GET", path)

    def run(self) -> float:
        threads = [threading.Thread(target=self.worker, args=(plan,)) for plan in self.plans]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started


class DeliveryLoop(threading.Thread):
    """The webhook worker's work, in this process: relay the outbox, deliver each batch, until stopped
    and drained. Counts deliveries that did not succeed."""

    def __init__(self, endpoint_id: int):
        super().__init__(daemon=True)
        self.endpoint_id = endpoint_id
        self.stop = threading.Event()
        self.failed: list[str] = []
        self.delivered = 0

    def _pass(self) -> int:
        from webhooks import engine
        from webhooks.models import Delivery

        engine.relay(enqueue=False)
        ids = list(
            Delivery.objects.filter(
                destination_kind="webhook",
                destination_id=str(self.endpoint_id),
                status=Delivery.Status.PENDING,
            ).values_list("pk", flat=True)[:500]
        )
        for start in range(0, len(ids), engine.BATCH_SIZE):
            statuses = engine.deliver_many(ids[start : start + engine.BATCH_SIZE])
            for pk, status in statuses.items():
                if status == Delivery.Status.SUCCEEDED:
                    self.delivered += 1
                else:
                    self.failed.append(f"delivery {pk}: {status}")
        return len(ids)

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                if not self._pass():
                    time.sleep(0.2)
            while self._pass():  # drain
                pass
        except Exception as exc:  # reported as an error of the run
            self.failed.append(repr(exc))
        finally:
            connection.close()


def _plans(shop, threads: int) -> list[dict]:
    from django.db.models import Count

    from subscriptions.models import Customer, Subscription, SubscriptionLine

    rng = random.Random(11)
    # ACTIVE subscriptions with exactly one line: skip/unskip and 1 <-> 2 alternate from a known state.
    single = list(
        Subscription.objects.filter(shop=shop, status=Subscription.Status.ACTIVE)
        .annotate(n=Count("lines"))
        .filter(n=1)
        .order_by("pk")
        .values_list("pk", flat=True)[:3000]
    )
    picks = rng.sample(single, min(len(single), threads * 5))
    line_of = dict(
        SubscriptionLine.objects.filter(subscription_id__in=picks).values_list("subscription_id", "pk")
    )
    emails = list(Customer.objects.filter(shop=shop).values_list("email", flat=True)[:500])
    return [
        {
            "seed": n,
            "subs": picks[n::threads],
            "lines": {pk: line_of[pk] for pk in picks[n::threads]},
            "emails": emails,
        }
        for n in range(threads)
    ]


def _reset(plans) -> None:
    """Each owned subscription starts unskipped with quantity 1 (a previous run may have left it)."""
    from subscriptions.models import SkippedDate, SubscriptionLine

    subs = [pk for plan in plans for pk in plan["subs"]]
    SkippedDate.objects.filter(subscription_id__in=subs).delete()
    SubscriptionLine.objects.filter(subscription_id__in=subs).update(quantity=1)


def _baseline(server: Server, duration: float) -> float:
    count = [0]
    lock = threading.Lock()

    def hit():
        deadline = time.monotonic() + duration
        with requests.Session() as session:
            while time.monotonic() < deadline:
                session.get(f"{server.url}/healthz", timeout=30).raise_for_status()
                with lock:
                    count[0] += 1

    threads = [threading.Thread(target=hit) for _ in range(THREADS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return count[0] / (time.perf_counter() - started)


def run(ctx: Context) -> list[Result]:
    from django.conf import settings

    from integrations.services import api_key_create
    from subscriptions.models import Shop, Subscription
    from webhooks.models import Delivery, WebhookEndpoint

    duration = 15.0 if ctx.quick else 60.0
    shop = Shop.objects.get(domain="demo-shop.example")
    _, key = api_key_create(
        shop=shop,
        token_nickname="load test",
        permissions={"subscriptions": "write", "customers": "read", "orders": "read"},
    )
    plans = _plans(shop, THREADS)
    _reset(plans)
    owned = [pk for plan in plans for pk in plan["subs"]]
    portal_subs = list(
        Subscription.objects.filter(shop=shop, status=Subscription.Status.ACTIVE)
        .exclude(pk__in=owned)
        .order_by("pk")[: len(plans)]
    )

    allowed_private = settings.WEBHOOKS_ALLOW_PRIVATE_URLS
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the receiver is on 127.0.0.1
    paused = list(WebhookEndpoint.objects.filter(shop_id=shop.pk, enabled=True).values_list("pk", flat=True))
    endpoint = None
    with ReceiverProcess() as receiver, Server(ctx, workers=WORKERS) as server:
        try:
            WebhookEndpoint.objects.filter(pk__in=paused).update(enabled=False)
            endpoint = WebhookEndpoint.objects.create(
                shop_id=shop.pk, url=receiver.url, events=EVENTS, description="load test"
            )
            for plan, sub in zip(plans, portal_subs, strict=False):
                plan["cookie"] = _signed_in_cookie(server, sub)
                plan["portal_sub"] = sub.pk
            baseline = _baseline(server, min(10.0, duration / 3))
            before = receiver.received()
            loop = DeliveryLoop(endpoint.pk)
            loop.start()
            load = Load(server, key, plans, duration)
            elapsed = load.run()
            loop.stop.set()
            loop.join(300)
            received = receiver.received() - before
            expected = Delivery.objects.filter(destination_kind="webhook", destination_id=str(endpoint.pk))
            undelivered = expected.exclude(status=Delivery.Status.SUCCEEDED).count()
            total_expected = expected.count()
        finally:
            if endpoint is not None:
                endpoint.delete()
            WebhookEndpoint.objects.filter(pk__in=paused).update(enabled=True)
            settings.WEBHOOKS_ALLOW_PRIVATE_URLS = allowed_private
            _reset(plans)
    requests_total = sum(len(v) for v in load.latencies.values())
    everything = [x for v in load.latencies.values() for x in v]
    per_kind = {
        kind: {
            "requests": len(values),
            "p50_ms": round(1000 * statistics.median(values), 1),
            "p99_ms": round(1000 * _percentile(values, 0.99), 1),
        }
        for kind, values in sorted(load.latencies.items())
    }
    errors = len(load.errors) + len(loop.failed) + undelivered + (received < loop.delivered)
    extra = {
        "duration_s": round(elapsed, 1),
        "gunicorn_workers": WORKERS,
        "client_threads": THREADS,
        "requests": requests_total,
        "throughput_rps": round(requests_total / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(everything), 1),
        "p99_ms": round(1000 * _percentile(everything, 0.99), 1),
        "per_kind": per_kind,
        "webhook_deliveries": loop.delivered,
        "webhook_deliveries_expected": total_expected,
        "receiver_got": received,
        "errors": errors,
        "first_errors": (load.errors + loop.failed)[:5],
    }
    kinds = "; ".join(
        f"{k}: {v['requests']} req, p50 {v['p50_ms']} ms, p99 {v['p99_ms']} ms" for k, v in per_kind.items()
    )
    return [
        Result(
            name="load: mixed vendor API, portal and webhook deliveries",
            unit="req/s",
            figure=requests_total / elapsed,
            baseline=baseline,
            baseline_name=f"/healthz from the same {THREADS} threads",
            target="zero errors (ratio for information)",
            notes=(
                f"{elapsed:.0f} s, gunicorn {WORKERS} workers, {THREADS} client threads on 127.0.0.1; "
                f"{requests_total} requests, p50 {extra['p50_ms']} ms, p99 {extra['p99_ms']} ms overall ({kinds}); "
                f"{loop.delivered} webhook deliveries of {total_expected} expected (receiver got {received}); "
                f"errors: {errors}."
            ),
            extra=extra,
        )
    ]
