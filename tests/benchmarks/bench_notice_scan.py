"""The upcoming-order notice scan (`due_upcoming_order_ids`: ACTIVE subscriptions ordering within the
shop's notice window, without a notice for that date and not skipped) over a big shop where most
subscriptions are not due, against a plain indexed SELECT of the ACTIVE rows in the window, same
run. Target: the scan within 3 x the plain SELECT (selection only; the full send of the due
notices, events included, is reported beside it as information)."""

import datetime as dt
import random
import statistics
import time

from tests.benchmarks.dataset import (
    catalogue,
    delete_shop,
    fresh_shop,
    insert_customers,
    insert_subscriptions,
)
from tests.benchmarks.harness import Context, Result

TODAY = dt.date(2025, 6, 1)
HORIZON_DAYS = 180  # next billing dates spread over the next six months: a few percent are due
ROUNDS = 7


def _dataset(count: int, rng: random.Random):
    from django.db.models import F

    from subscriptions.management.commands.seed_demo import insert_rows
    from subscriptions.models import Notice, SkippedDate

    shop = fresh_shop("notices")
    plan, _ = catalogue(shop)
    customers = insert_customers(shop, max(1, count // 20), cards=False)
    rows = []
    for i in range(count):
        status = rng.choices(("ACTIVE", "PAUSED", "CANCELLED"), weights=(70, 15, 15))[0]
        date = TODAY + dt.timedelta(days=rng.randint(1, HORIZON_DAYS))
        rows.append((customers[i % len(customers)][0], None, None, status, date))
    insert_subscriptions(shop, plan, rows)
    # Some of the due ones were noticed already (an earlier tick) or are skipped.
    due = _plain_select(shop)
    noticed = rng.sample(due, len(due) // 10)
    skipped = rng.sample(sorted(set(due) - set(noticed)), len(due) // 50)
    dates = dict(
        shop.subscriptions.filter(pk__in=noticed + skipped).values_list("pk", "next_billing_date").iterator()
    )
    insert_rows(
        Notice,
        ["shop", "subscription", "kind", "date", "sent_at"],
        [(shop.pk, pk, "upcoming_order", dates[pk], dt.datetime.now(dt.UTC)) for pk in noticed],
    )
    # What sending them did besides the Notice row: the subscription remembers the noticed date.
    shop.subscriptions.filter(pk__in=noticed).update(upcoming_notice_date=F("next_billing_date"))
    insert_rows(
        SkippedDate,
        ["shop", "subscription", "date", "created_at"],
        [(shop.pk, pk, dates[pk], dt.datetime.now(dt.UTC)) for pk in skipped],
    )
    return shop, len(due), len(noticed), len(skipped)


def _plain_select(shop) -> list[int]:
    """The floor: the ACTIVE rows of the window, straight off the (shop, status, date) index."""
    from django.db import connection

    horizon = TODAY + dt.timedelta(days=shop.upcoming_notice_days)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM subscriptions_subscription WHERE shop_id = %s AND status = 'ACTIVE' "
            "AND next_billing_date > %s AND next_billing_date <= %s",
            [shop.pk, TODAY, horizon],
        )
        return [row[0] for row in cursor.fetchall()]


def _timed(fn, *args) -> tuple[float, int]:
    started = time.perf_counter()
    found = fn(*args)
    return time.perf_counter() - started, len(found)


def run(ctx: Context) -> list[Result]:
    from subscriptions.services.notices import due_upcoming_order_ids, shop_send_notices
    from webhooks import outbox

    count = 100_000 if ctx.quick else 1_000_000
    rng = random.Random(3)
    shop = None
    try:
        started = time.perf_counter()
        shop, due, noticed, skipped = _dataset(count, rng)
        load_s = time.perf_counter() - started
        plain, scan = [], []
        for _ in range(ROUNDS):  # alternated, so both see the same cache and machine load
            seconds, plain_rows = _timed(_plain_select, shop)
            plain.append(seconds)
            seconds, scan_rows = _timed(due_upcoming_order_ids, shop, TODAY)
            scan.append(seconds)
        if scan_rows != due - noticed - skipped or plain_rows != due:
            raise RuntimeError(
                f"scan found {scan_rows}, plain {plain_rows}: expected {due - noticed - skipped}, {due}"
            )
        kick, outbox._kick_relay = outbox._kick_relay, lambda: None  # the relay is another worker's job
        try:
            started = time.perf_counter()
            sent = shop_send_notices(shop=shop, today=TODAY)["upcoming_order"]
            send_s = time.perf_counter() - started
        finally:
            outbox._kick_relay = kick
        if sent != scan_rows:
            raise RuntimeError(f"sent {sent} notices for {scan_rows} due")
    finally:
        if shop is not None:
            delete_shop(shop)
    scan_ms, plain_ms = statistics.median(scan) * 1000, statistics.median(plain) * 1000
    return [
        Result(
            name="upcoming-notice scan (due_upcoming_order_ids)",
            unit="ms",
            figure=scan_ms,
            baseline=plain_ms,
            baseline_name="plain indexed SELECT of the ACTIVE rows in the window",
            target="<= 3 x",
            ratio_max=3.0,
            notes=f"{count:,} subscriptions (70% ACTIVE, next dates over {HORIZON_DAYS} days; loaded in "
            f"{load_s:.0f} s), {due:,} in the 3-day window, {noticed:,} noticed already, {skipped:,} skipped; "
            f"median of {ROUNDS} alternated rounds. Info, not the target: sending the {sent:,} notices "
            f"(notice row, activity, outbox event each) took {send_s:.1f} s = {sent / send_s:,.0f} notices/s.",
            extra={
                "subscriptions": count,
                "due": due,
                "selected": scan_rows,
                "send_s": round(send_s, 2),
                "notices_per_s": round(sent / send_s, 1),
            },
        )
    ]
