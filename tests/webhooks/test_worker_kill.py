"""A worker killed with SIGKILL in the middle of a delivery loses nothing.

Everything runs out of process against a private SQLite file and file-system broker: a real Celery
worker takes the relay and the delivery from the broker, the receiver holds its request open, the
test kills the worker's process group, and a second worker (handed the delivery by the sweep once
the lease has run out) sends it again with the same webhook-id.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60  # seconds, for each step that waits on another process
LEASE = 4  # seconds: WEBHOOKS_DELIVERY_LEASE_SECONDS of the workers


class HoldingReceiver:
    """Holds the first request open until released (or WAIT); answers every later one 200 at once."""

    def __init__(self):
        self.received: list[str] = []  # webhook-id of each request, in arrival order
        self.completed: list[str] = []  # webhook-id of each request answered
        self.first_arrived = threading.Event()
        self.one_completed = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                webhook_id = self.headers.get("webhook-id", "")
                receiver.received.append(webhook_id)
                if len(receiver.received) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(WAIT)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender was killed while we held the request
                    return
                if len(receiver.received) > 1:
                    receiver.completed.append(webhook_id)
                    receiver.one_completed.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _environment(tmp: Path) -> dict:
    # Nothing of the suite's own database, broker or cache may leak into the worker's processes.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DATABASE_", "PYTEST_", "CACHE_", "SQLITE_", "WEBHOOKS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        BROKER_DATA_DIR=str(tmp / "broker"),
        CELERY_TASK_ALWAYS_EAGER="false",
        WEBHOOKS_ALLOW_PRIVATE_URLS="true",
        WEBHOOKS_DELIVERY_LEASE_SECONDS=str(LEASE),
        LOG_LEVEL="WARNING",
    )
    return env


def _run(env: dict, *args: str, timeout: float = WAIT) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _start_worker(env: dict, tmp: Path, name: str) -> subprocess.Popen:
    log = open(tmp / f"{name}.log", "w")  # noqa: SIM115 - closed with the process below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so the kill reaches everything it started
    )
    proc.log = log
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.log.close()


def _logs(tmp: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(tmp.glob("*.log")))


def _deliveries(db: Path) -> list[tuple]:
    # Read-only look at the worker's database; Django here is bound to the suite's own database.
    with closing(sqlite3.connect(db, timeout=20)) as conn:
        return conn.execute("SELECT id, status, attempt_count FROM webhooks_delivery").fetchall()


def _attempts(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=20)) as conn:
        return conn.execute(
            "SELECT number, status_code, succeeded FROM webhooks_deliveryattempt ORDER BY number"
        ).fetchall()


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing(tmp_path):
    env = _environment(tmp_path)
    db = tmp_path / "db.sqlite3"
    workers: list[subprocess.Popen] = []
    with HoldingReceiver() as receiver:
        try:
            _run(env, "manage.py", "migrate", "--noinput", timeout=3 * WAIT)
            _run(env, "-m", "tests.webhooks.worker_scenario", "emit", receiver.url)

            doomed = _start_worker(env, tmp_path, "doomed")
            workers.append(doomed)
            assert receiver.first_arrived.wait(WAIT), "no delivery arrived\n" + _logs(tmp_path)
            os.killpg(doomed.pid, signal.SIGKILL)  # mid-send: the request is still open
            killed_at = time.monotonic()
            assert doomed.wait(10) == -signal.SIGKILL
            killed_id = receiver.received[0]

            workers.append(_start_worker(env, tmp_path, "survivor"))
            time.sleep(max(0.0, killed_at + LEASE + 0.5 - time.monotonic()))
            deadline = time.monotonic() + WAIT
            # The broker's copy of the message went with the worker; the sweep hands the delivery
            # out again once nobody holds its lease.
            while int(_run(env, "-m", "tests.webhooks.worker_scenario", "sweep").strip() or 0) == 0:
                assert time.monotonic() < deadline, "the sweep never handed the delivery out\n" + _logs(
                    tmp_path
                )
                time.sleep(1)
            assert receiver.one_completed.wait(max(1.0, deadline - time.monotonic())), _logs(tmp_path)

            while _deliveries(db)[0][1] != "succeeded" and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for worker in workers:
                _stop(worker)

    assert receiver.completed == [killed_id]
    assert set(receiver.received) == {killed_id}
    [(delivery_id, status, attempt_count)] = _deliveries(db)
    assert uuid.UUID(delivery_id) == uuid.UUID(killed_id)
    assert status == "succeeded"
    # Two claims, but the killed attempt never got to record anything: the log shows one success.
    assert attempt_count == 2
    assert [(code, succeeded) for _, code, succeeded in _attempts(db)] == [(200, 1)]
