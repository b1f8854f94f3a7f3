"""Two billing runs (or two notice runs) at the same moment do everything once — tested with two
real processes — and a renewal whose worker died before charging is charged once by the next run.

The processes run `manage.py run_billing` / `send_notices` (through `tests.subscriptions.billing_race`,
which holds each one at a start line) against a scratch database: a fresh PostgreSQL database on
the CI server when the suite runs on PostgreSQL, otherwise a private SQLite file, where the two
writers take turns and a refused one ("database is locked") retries its transaction.
"""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine

from subscriptions.models import Order, SandboxCharge
from subscriptions.services import billing
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
WAIT = 180  # seconds, for each step that waits on another process (the machine may be busy)
BILLING_DATE = dt.date(2025, 3, 1)
SUBSCRIPTIONS = 50


# ---------------------------------------------------------------- scratch database and processes


def _create_scratch_database(tmp: Path):
    """(database URL, drop function): a new database on the suite's PostgreSQL server, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'db.sqlite3'}", lambda: None
    import psycopg

    parts = urlsplit(url)
    conninfo = parts._replace(scheme="postgresql").geturl()
    name = f"billing_race_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return parts._replace(path=f"/{name}").geturl(), drop


@pytest.fixture(scope="module")
def race_env(tmp_path_factory):
    """The environment of the racing processes: a migrated scratch database of their own."""
    tmp = tmp_path_factory.mktemp("billing-race")
    database_url, drop = _create_scratch_database(tmp)
    # Nothing of the suite's own database, broker or cache may leak into the processes.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "DATABASE_", "PYTEST_", "CACHE_", "SQLITE_", "WEBHOOKS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        CELERY_BROKER_URL="filesystem://",
        BROKER_DATA_DIR=str(tmp / "broker"),  # relays enqueued after commit land here, unread
        CELERY_TASK_ALWAYS_EAGER="false",
        LOG_LEVEL="WARNING",
    )
    try:
        _run(env, "manage.py", "migrate", "--noinput", timeout=600)
        yield env
    finally:
        drop()


def _run(env: dict, *args: str, timeout: float = WAIT, expect: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == expect, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _step(env: dict, *args: str, expect: int = 0) -> str:
    return _run(env, "-m", "tests.subscriptions.billing_race", *args, expect=expect)


def _report(env: dict, shop: str, date: dt.date) -> dict:
    return json.loads(_step(env, "report", shop, date.isoformat()))


def _race(env: dict, tmp: Path, *command: str) -> list[str]:
    """Start two processes that each run `command` once both are ready; wait for both."""
    start = tmp / f"start-{uuid.uuid4().hex[:8]}"
    procs: list[subprocess.Popen] = []
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tests.subscriptions.billing_race", "go", str(start), *command],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + WAIT
        while len(list(tmp.glob(f"{start.name}.ready.*"))) < 2:
            assert time.monotonic() < deadline, "the racing processes never got ready"
            dead = [p for p in procs if p.poll() is not None]
            assert not dead, dead[0].communicate()
            time.sleep(0.05)
        start.touch()  # both go
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=WAIT)
            assert proc.returncode == 0, f"{command} exited {proc.returncode}:\n{out}\n{err}"
            # A refused writer retried its transaction: nothing failed, nothing was logged as lost.
            assert "locked" not in err and "Traceback" not in err, err
            outputs.append(out)
        return outputs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def _assert_billed_once(report: dict, count: int) -> None:
    assert len(report["subscriptions"]) == count
    # Exactly one order per (subscription, date), one charge per order, every order paid.
    assert report["orders_on_date"] == {sub_id: 1 for sub_id in report["subscriptions"]}
    assert len(report["order_status"]) == count
    assert set(report["order_status"].values()) == {Order.Status.PAID}
    assert report["charges_per_order"] == {order_id: 1 for order_id in report["order_status"]}
    assert report["all_charges"] == count
    assert {s["order_count"] for s in report["subscriptions"].values()} == {1}
    assert {s["next_billing_date"] for s in report["subscriptions"].values()} == {"2025-04-01"}
    assert report["succeeded_events"] == count


# ---------------------------------------------------------------- the races


@pytest.mark.slow
def test_two_billing_runs_at_the_same_moment_charge_each_renewal_once(race_env, tmp_path):
    shop = "race-billing.example"
    _step(race_env, "setup", shop, BILLING_DATE.isoformat(), str(SUBSCRIPTIONS))

    outputs = _race(race_env, tmp_path, "run_billing", "--shop", shop, "--date", BILLING_DATE.isoformat())

    assert all(out.startswith(f"{shop} {BILLING_DATE}:") for out in outputs), outputs
    _assert_billed_once(_report(race_env, shop, BILLING_DATE), SUBSCRIPTIONS)


@pytest.mark.slow
def test_renewals_whose_worker_died_before_charging_are_charged_once_by_the_next_runs(race_env, tmp_path):
    shop = "race-restart.example"
    _step(race_env, "setup", shop, BILLING_DATE.isoformat(), "10")
    _step(race_env, "crash", shop, BILLING_DATE.isoformat(), "4", expect=3)
    died = _report(race_env, shop, BILLING_DATE)
    assert sorted(died["order_status"].values()) == [Order.Status.PENDING] * 4
    assert died["all_charges"] == 0

    # The next runs (two at once, after the dead worker's charge lease ran out) bill the other six
    # and charge the four left pending, each once, with the key the dead worker would have used.
    later = str(billing.CHARGE_LEASE.total_seconds() + 60)
    _race(
        race_env,
        tmp_path,
        "run_billing",
        "--shop",
        shop,
        "--date",
        BILLING_DATE.isoformat(),
        "--later",
        later,
    )

    _assert_billed_once(_report(race_env, shop, BILLING_DATE), 10)


@pytest.mark.slow
def test_two_notice_runs_at_the_same_moment_send_each_notice_once(race_env, tmp_path):
    shop = "race-notices.example"
    today = BILLING_DATE - dt.timedelta(days=2)  # orders in two days: inside the 3-day window
    _step(race_env, "setup", shop, BILLING_DATE.isoformat(), str(SUBSCRIPTIONS))

    _race(race_env, tmp_path, "send_notices", "--shop", shop, "--date", today.isoformat())

    report = _report(race_env, shop, BILLING_DATE)
    assert report["notices"] == {sub_id: 1 for sub_id in report["subscriptions"]}
    assert report["upcoming_events"] == {sub_id: 1 for sub_id in report["subscriptions"]}


# ---------------------------------------------------------------- worker restart, in process


def test_a_pending_renewal_is_left_to_its_live_worker_and_charged_once_after_the_lease(db):
    shop = f.ShopFactory()
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=BILLING_DATE, anchor_day=1)
    started = dt.datetime(2025, 3, 1, 15, 0, tzinfo=dt.UTC)
    with time_machine.travel(started, tick=False) as clock:
        order, _ = billing._start_renewal(sub.pk, BILLING_DATE)  # the worker dies here, before charging
        assert order.status == Order.Status.PENDING

        # A run while the lease holds leaves the charge to its (maybe still live) worker.
        billing.shop_run_billing(shop=shop, run_date=BILLING_DATE)
        order.refresh_from_db()
        assert order.status == Order.Status.PENDING and SandboxCharge.objects.count() == 0

        clock.move_to(started + billing.CHARGE_LEASE + dt.timedelta(seconds=1))
        billing.shop_run_billing(shop=shop, run_date=BILLING_DATE)
        billing.shop_run_billing(shop=shop, run_date=BILLING_DATE)

    order.refresh_from_db()
    sub.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert list(order.payment_attempts.values_list("number", "status")) == [(1, "succeeded")]
    assert SandboxCharge.objects.get().idempotency_key == billing._idempotency_key(order, 1)
    assert sub.order_count == 1 and sub.next_billing_date == dt.date(2025, 4, 1)
    assert Order.objects.count() == 1
