"""Streaming CSV export of 300,000 subscriptions (quick: 30,000) through `csv_rows` (the queryset
the export page streams, `.iterator(chunk_size)`), against a plain cursor over the same SELECT
written with csv.writer, same run. Targets: at least half the plain cursor's rows per second, and a
peak of Python memory (tracemalloc) under a tenth of what holding every row would take (measured
on 10,000 rows loaded at once with `list(...)`, scaled to the full count)."""

import csv
import time
import tracemalloc

from tests.benchmarks.console_dataset import console_shop
from tests.benchmarks.dataset import delete_shop
from tests.benchmarks.harness import Context, Result

SAMPLE = 10_000


class _Null:
    def write(self, value: str) -> int:
        return len(value)


def _plain_cursor(queryset) -> int:
    """The floor: the same SQL, fetched in chunks, written by csv.writer, no ORM rows."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    writer, rows = csv.writer(_Null()), 0
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(2000):
            writer.writerows(chunk)
            rows += len(chunk)
    return rows


def run(ctx: Context) -> list[Result]:
    from console.exports import EXPORTS, csv_rows
    from subscriptions.models import Subscription

    count = 30_000 if ctx.quick else 300_000
    shop = None
    try:
        started = time.perf_counter()
        shop, _ = console_shop("csv-export", count, orders=0)
        load_s = time.perf_counter() - started
        queryset = Subscription.objects.filter(shop=shop)
        columns = [path for _, path in EXPORTS["subscriptions"][1]]

        started = time.perf_counter()
        plain_rows = _plain_cursor(queryset.order_by("pk").values_list(*columns))
        plain_s = time.perf_counter() - started

        started = time.perf_counter()
        lines = sum(1 for _ in csv_rows("subscriptions", queryset, tz=shop.tz)) - 1
        export_s = time.perf_counter() - started
        # Memory in a second pass: tracemalloc slows every allocation, so it stays out of the timing.
        tracemalloc.start()
        sum(1 for _ in csv_rows("subscriptions", queryset, tz=shop.tz))
        _, export_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        tracemalloc.start()
        held = list(queryset.order_by("pk").values_list(*columns)[:SAMPLE])
        _, sample_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del held
        if lines != count or plain_rows != count:
            raise RuntimeError(f"exported {lines}, plain {plain_rows}, expected {count}")
    finally:
        if shop is not None:
            delete_shop(shop)
    mib = 1024 * 1024
    full_estimate = sample_peak * count / SAMPLE
    return [
        Result(
            name="CSV export throughput (subscriptions)",
            unit="rows/s",
            figure=count / export_s,
            baseline=count / plain_s,
            baseline_name="plain cursor fetchmany + csv.writer, same SELECT",
            target=">= 0.5 x",
            ratio_min=0.5,
            notes=f"{count:,} rows (loaded in {load_s:.0f} s): streamed in {export_s:.1f} s, plain cursor {plain_s:.1f} s.",
            extra={"rows": count, "export_s": round(export_s, 2), "plain_s": round(plain_s, 2)},
        ),
        Result(
            name="CSV export peak memory",
            unit="MiB",
            figure=export_peak / mib,
            baseline=full_estimate / mib,
            baseline_name=f"every row held at once (list() of {SAMPLE:,} rows, scaled)",
            target="<= 0.1 x",
            ratio_max=0.1,
            notes=f"tracemalloc peak while streaming {count:,} rows: {export_peak / mib:.1f} MiB; holding "
            f"{SAMPLE:,} rows took {sample_peak / mib:.1f} MiB, so all of them about {full_estimate / mib:.0f} MiB.",
            extra={
                "peak_mib": round(export_peak / mib, 2),
                "full_estimate_mib": round(full_estimate / mib, 1),
            },
        ),
    ]
