"""The web server is SIGKILLed in the middle of vendor API writes: once it is back and the clients
retry with the same `Idempotency-Key`, every change is applied exactly once, none is half-done, and
a request that had been answered before the kill answers the same again.

Everything runs out of process against a private SQLite file: gunicorn (2 sync workers, the
production entry point `config.wsgi`) serves a burst of skip / pause / next-billing-date requests
from client threads. Its config (web_kill_gunicorn.py) stops each worker's third change just before
its outbox event is written, which is the worst moment to die; the test waits until a worker is
held there and kills the whole process group. A fresh gunicorn on the same file then gets every
request again until each has a definitive answer.

A Celery worker killed mid-delivery: tests/webhooks/test_worker_kill.py; a database connection lost
mid-transaction: tests/proof/test_faults.py."""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
WAIT = 60  # seconds, for each step that waits on another process
SUBSCRIPTIONS = 12
KINDS = ("skip", "pause", "next-billing-date")
# What each change leaves behind: its one activity row and its one outbox event.
ACTIVITY = {"skip": "skipped", "pause": "paused", "next-billing-date": "next_order_date_changed"}
EVENT = {
    "skip": "subscription.skipped",
    "pause": "subscription.paused",
    "next-billing-date": "subscription.next_order_date_changed",
}


def _environment(tmp: Path) -> dict:
    # Nothing of the suite's own database, broker or cache may leak into the server's processes.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DATABASE_", "PYTEST_", "CACHE_", "SQLITE_", "WEB_KILL_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        BROKER_DATA_DIR=str(tmp / "broker"),
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
    )
    return env


def _run(env: dict, *args: str, timeout: float = WAIT) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group, so one kill reaches the master and every worker."""

    def __init__(self, env: dict, tmp: Path, name: str):
        self.port = _free_port()
        self.log_path = tmp / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(GUNICORN), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{self.port}"]
            + ["-c", str(Path(__file__).with_name("web_kill_gunicorn.py")), "--timeout", "120"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            assert self.proc.poll() is None, "gunicorn exited\n" + self.log_path.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                pass
            assert time.monotonic() < deadline, (
                "gunicorn never got ready\n" + self.log_path.read_text()[-3000:]
            )
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        try:
            self.kill()
        except ProcessLookupError:
            pass
        finally:
            self.log.close()


def _requests(world: dict) -> list[dict]:
    """One change per subscription, each with its own Idempotency-Key."""
    out = []
    for i, sub in enumerate(world["subscriptions"]):
        kind = KINDS[i % len(KINDS)]
        body = {}
        if kind == "next-billing-date":
            target = dt.date.fromisoformat(sub["next_billing_date"]) + dt.timedelta(days=10)
            body = {"nextBillingDate": target.isoformat()}
        out.append(
            {
                "sub": sub["id"],
                "kind": kind,
                "path": f"/vendor/customer/{sub['customer']}/purchase-state/{sub['id']}/{kind}",
                "body": body,
                "key": f"web-kill-{sub['id']}-{kind}",
            }
        )
    return out


def _send(base: str, key: str, request: dict, timeout: float = WAIT) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(
        base + request["path"],
        data=json.dumps(request["body"]).encode(),
        method="PUT",
        headers={
            "Content-Type": "application/json",
            "X-Smartrr-Access-Token": key,
            "Idempotency-Key": request["key"],
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def _in_progress(status: int, body: bytes) -> bool:
    return status == 409 and b"idempotency_in_progress" in body


@pytest.mark.slow
def test_a_web_server_killed_mid_request_loses_nothing_and_does_nothing_twice(tmp_path):
    env = _environment(tmp_path)
    _run(env, "manage.py", "migrate", "--noinput", timeout=3 * WAIT)
    _run(env, "manage.py", "createcachetable")  # the rate limits count in the database cache
    world = json.loads(_run(env, "-m", "tests.proof.web_scenario", "setup", str(SUBSCRIPTIONS)))
    requests = _requests(world)
    held = tmp_path / "held"
    held.mkdir()

    first: dict[int, tuple] = {}  # index -> (status, body, headers) answered before the kill
    lost: dict[int, str] = {}  # index -> what the client saw instead of an answer
    servers: list[Server] = []
    try:
        doomed = Server(
            {**env, "WEB_KILL_HOLD_DIR": str(held), "WEB_KILL_HOLD_AFTER": "3"}, tmp_path, "doomed"
        )
        servers.append(doomed)
        doomed.wait_ready()

        def client(i: int) -> None:
            try:
                first[i] = _send(doomed.base, world["key"], requests[i], timeout=2 * WAIT)
            except OSError as error:  # reset, refused, closed mid-answer
                lost[i] = repr(error)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(requests))]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT
        while not any(held.iterdir()):
            assert time.monotonic() < deadline, (
                "no worker reached the hold\n" + doomed.log_path.read_text()[-3000:]
            )
            assert doomed.proc.poll() is None, doomed.log_path.read_text()[-3000:]
            time.sleep(0.05)
        doomed.kill()  # a worker is inside a write, others are queued behind it
        for thread in threads:
            thread.join(WAIT)
        assert not any(t.is_alive() for t in threads), "a client never noticed the server died"
        assert lost, "every request was answered before the kill: the test proves nothing"
        assert first, "no request was answered before the kill: nothing to replay"
        assert all(status == 200 for status, _, _ in first.values()), first

        back = Server(env, tmp_path, "back")
        servers.append(back)
        back.wait_ready()
        final: dict[int, tuple] = {}
        last: dict[int, str] = {}  # the latest non-definitive answer, for the failure message
        deadline = time.monotonic() + WAIT
        while len(final) < len(requests):
            for i in range(len(requests)):
                if i in final:
                    continue
                try:
                    status, body, headers = _send(back.base, world["key"], requests[i])
                except OSError as error:
                    last[i] = repr(error)
                    continue
                last[i] = f"{status} {body[:200]!r}"
                if status < 500 and not _in_progress(status, body):
                    final[i] = (status, body, headers)
            stuck = {requests[i]["key"]: last.get(i) for i in range(len(requests)) if i not in final}
            assert time.monotonic() < deadline, f"no definitive answer (key: last answer): {stuck}"
            if stuck:
                time.sleep(0.2)
        again = {i: _send(back.base, world["key"], requests[i]) for i in range(len(requests))}
    finally:
        for server in servers:
            server.stop()

    for i, (status, body, headers) in final.items():
        assert status == 200, (requests[i]["key"], status, body)
        if i in first:  # answered before the kill: the retry gets the recorded answer, not a new one
            assert headers.get("Idempotent-Replayed") == "true"
            assert body == first[i][1]
        # and every later retry repeats the definitive answer
        assert again[i][0] == 200 and again[i][1] == body and again[i][2].get("Idempotent-Replayed") == "true"

    report = json.loads(_run(env, "-m", "tests.proof.web_scenario", "report"))
    subs = report["subscriptions"]
    for request in requests:
        state = subs[str(request["sub"])]
        kind = request["kind"]
        # Exactly once, and never half-done: one activity row and one event per change.
        assert state["activity"] == [ACTIVITY[kind]], (request["key"], state)
        assert state["events"] == [EVENT[kind]], (request["key"], state)
        if kind == "skip":
            assert (state["status"], state["skipped"]) == ("ACTIVE", 1), state
        elif kind == "pause":
            assert (state["status"], state["skipped"]) == ("PAUSED", 0), state
        else:
            assert state["next_billing_date"] == request["body"]["nextBillingDate"], state
            assert (state["status"], state["skipped"]) == ("ACTIVE", 0), state
    assert report["unattributed_events"] == []
    assert sorted(report["idempotency"]) == sorted([r["key"], 200] for r in requests)
