"""The console dashboard at 300,000 subscriptions (quick: 30,000): the whole page as a signed-in
superuser gets it (every figure's SQL aggregates plus the SVG charts), against a plain
`SELECT status, COUNT(*) ... GROUP BY status` over the same rows in the same run.
Target: the page in under one second (pass when figure <= 1 s: ratio_max = 1 s / baseline)."""

import statistics
import time

from tests.benchmarks.console_dataset import console_shop
from tests.benchmarks.dataset import delete_shop
from tests.benchmarks.harness import Context, Result

ROUNDS = 5


def _plain_count(shop) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, COUNT(*) FROM subscriptions_subscription WHERE shop_id = %s GROUP BY status",
            [shop.pk],
        )
        return dict(cursor.fetchall())


def _timed(fn, *args) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - started, out


def run(ctx: Context) -> list[Result]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from console.dashboard import dashboard_get

    count = 30_000 if ctx.quick else 300_000
    shop = user = None
    try:
        started = time.perf_counter()
        shop, info = console_shop("dashboard", count)
        load_s = time.perf_counter() - started
        user = get_user_model().objects.create(
            username=f"bench-dashboard-{shop.pk}", is_staff=True, is_superuser=True
        )
        client = Client()
        client.force_login(user)
        url = reverse("console:dashboard") + f"?shop={shop.pk}"
        plain, page, data, program = [], [], [], []
        for _ in range(ROUNDS):  # alternated, so both see the same cache and machine load
            seconds, counts = _timed(_plain_count, shop)
            plain.append(seconds)
            seconds, response = _timed(client.get, url)
            if response.status_code != 200:
                raise RuntimeError(f"dashboard answered {response.status_code}")
            page.append(seconds)
            seconds, figures = _timed(lambda: dashboard_get(shop=shop))
            data.append(seconds)
            seconds, _ = _timed(lambda: dashboard_get(shop=shop, program_id=info["programs"][1]))
            program.append(seconds)
        if figures.counts != info["counts"] or counts != info["counts"]:
            raise RuntimeError(f"counts {figures.counts} / {counts}, expected {info['counts']}")
    finally:
        if user is not None:
            user.delete()
        if shop is not None:
            delete_shop(shop)
    page_s, plain_s = statistics.median(page), statistics.median(plain)
    return [
        Result(
            name="console dashboard page",
            unit="s",
            figure=page_s,
            baseline=plain_s,
            baseline_name="plain COUNT(*) GROUP BY status over the same subscriptions",
            target="< 1 s",
            ratio_max=1.0 / plain_s if plain_s else None,
            notes=f"{count:,} subscriptions (70/15/15% ACTIVE/PAUSED/CANCELLED, two programs, loaded in "
            f"{load_s:.0f} s) and {info['orders']:,} orders of the last 60 days; median of {ROUNDS} rounds. "
            f"The figures alone (dashboard_get, all SQL aggregates): {statistics.median(data):.3f} s; "
            f"filtered by one program: {statistics.median(program):.3f} s.",
            extra={
                "subscriptions": count,
                "page_s": round(page_s, 3),
                "figures_s": round(statistics.median(data), 3),
                "program_s": round(statistics.median(program), 3),
                "plain_s": round(plain_s, 4),
            },
        )
    ]
