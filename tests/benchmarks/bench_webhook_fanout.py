"""Webhook fan-out through the delivery engine in one worker process, against a plain
`requests.Session` loop posting the same bodies to the same receiver, same run.

Engine: the events are emitted first, each in its own transaction (`webhooks.outbox.emit`, timed
and reported but not part of the fan-out figure); then `engine.relay()` and `engine.deliver_many()`
over batches of one endpoint's deliveries, as a worker runs the relay's tasks: claim with a lease,
Standard Webhooks signature, POST through the hardened client, attempt rows, settle. The receiver is a separate process
(a ThreadingHTTPServer answering 204 with keep-alive) so it does not share this process's GIL.
Target: engine >= 0.6 x the plain loop, in events per second."""

import subprocess
import sys
import time

import requests

from tests.benchmarks.harness import Context, Result

EVENT_TYPE = "subscription.skipped"
ACTOR = "benchmark:webhook-fanout"

RECEIVER = r"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

received = 0

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a load balancer

    def do_POST(self):
        global received
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received += 1
        self.send_response(204)
        self.end_headers()

    def do_GET(self):
        body = str(received).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


class ReceiverProcess:
    def __enter__(self) -> "ReceiverProcess":
        self.proc = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}/hook"
        return self

    def received(self) -> int:
        return int(requests.get(self.url, timeout=10).text)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _plain_loop(url: str, bodies: list[bytes]) -> float:
    """The floor: the same POSTs from one keep-alive session, no database, no signing."""
    with requests.Session() as session:
        started = time.perf_counter()
        for body in bodies:
            response = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            if response.status_code != 204:
                raise RuntimeError(f"receiver answered {response.status_code}")
        return len(bodies) / (time.perf_counter() - started)


def _engine(shop, endpoint, count: int) -> tuple[float, dict, list]:
    from django.db import transaction

    from webhooks import engine, outbox, registry
    from webhooks.models import Delivery

    data = registry.sample_data(EVENT_TYPE, shop.pk)
    # One process is the whole worker here: the relay runs inline below, not through the broker.
    kick, outbox._kick_relay = outbox._kick_relay, lambda: None
    try:
        started = time.perf_counter()
        events = []
        for _ in range(count):
            with transaction.atomic():
                events.append(
                    outbox.emit(shop_id=shop.pk, shop=shop.domain, type=EVENT_TYPE, actor=ACTOR, data=data)
                )
        emitted = time.perf_counter()
        engine.relay(enqueue=False)
        relayed = time.perf_counter()
        ids = list(
            Delivery.objects.filter(destination_kind="webhook", destination_id=str(endpoint.pk)).values_list(
                "pk", flat=True
            )
        )
        # As a worker runs the tasks the relay hands out: one batch of one endpoint's deliveries each.
        failed = []
        for start in range(0, len(ids), engine.BATCH_SIZE):
            statuses = engine.deliver_many(ids[start : start + engine.BATCH_SIZE])
            failed += [pk for pk, status in statuses.items() if status != Delivery.Status.SUCCEEDED]
        finished = time.perf_counter()
    finally:
        outbox._kick_relay = kick
    if len(ids) != count or failed:
        raise RuntimeError(f"{len(ids)} deliveries for {count} events, {len(failed)} not delivered")
    phases = {
        "emit_s": round(emitted - started, 2),
        "relay_s": round(relayed - emitted, 2),
        "deliver_s": round(finished - relayed, 2),
    }
    # Fan-out is the engine's work on events already in the outbox (relay + deliver); emitting them
    # is the services' own transaction and is reported beside it.
    return count / (finished - emitted), phases, events


def _clean_up() -> None:
    """Remove every event this benchmark emitted (with their deliveries and attempts), also those
    of an earlier run that died half-way."""
    from webhooks.models import OutboxEvent

    ids = list(OutboxEvent.objects.filter(actor=ACTOR).values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        OutboxEvent.objects.filter(pk__in=ids[start : start + 500]).delete()


def run(ctx: Context) -> list[Result]:
    from django.conf import settings

    from subscriptions.models import Shop
    from webhooks.endpoints import body_bytes
    from webhooks.models import WebhookEndpoint

    count = 2000 if ctx.quick else 10000
    shop = Shop.objects.get(domain="demo-shop.example")
    allowed_private = settings.WEBHOOKS_ALLOW_PRIVATE_URLS
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the receiver is on 127.0.0.1
    endpoint = None
    # Any endpoint of the demo shop already listening would get the events too: pause it meanwhile.
    paused = [
        e.pk
        for e in WebhookEndpoint.objects.filter(shop_id=shop.pk, enabled=True).only("events")
        if EVENT_TYPE in e.events
    ]
    _clean_up()
    with ReceiverProcess() as receiver:
        try:
            WebhookEndpoint.objects.filter(pk__in=paused).update(enabled=False)
            endpoint = WebhookEndpoint.objects.create(
                shop_id=shop.pk, url=receiver.url, events=[EVENT_TYPE], description="benchmark"
            )
            _plain_loop(receiver.url, [b"{}"] * 200)  # warm up the receiver
            _engine(shop, endpoint, 50)  # and this process's code paths
            _clean_up()

            engine_rate, phases, events = _engine(shop, endpoint, count)
            bodies = [body_bytes(event) for event in events]
            before = receiver.received()
            plain_rates = [_plain_loop(receiver.url, bodies) for _ in range(2)]
            if receiver.received() - before != 2 * count:
                raise RuntimeError("the receiver did not get every plain POST")
        finally:
            _clean_up()
            if endpoint is not None:
                endpoint.delete()
            WebhookEndpoint.objects.filter(pk__in=paused).update(enabled=True)
            settings.WEBHOOKS_ALLOW_PRIVATE_URLS = allowed_private
    plain_rate = sum(plain_rates) / len(plain_rates)
    return [
        Result(
            name="webhook fan-out (relay + signed delivery + attempt log; one worker process)",
            unit="events/s",
            figure=engine_rate,
            baseline=plain_rate,
            baseline_name="plain requests.Session loop, same bodies, same receiver",
            target=">= 0.6",
            ratio_min=0.6,
            notes=f"{count} events, each emitted in its own transaction, to one endpoint on a 127.0.0.1 "
            f"receiver process answering 204; signed, one attempt row each. Engine phases: {phases}; "
            f"plain loop runs: {[round(r) for r in plain_rates]} events/s.",
            extra=phases,
        )
    ]
