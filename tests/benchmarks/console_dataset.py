"""A big shop for the console benchmarks (dashboard, CSV export): subscriptions created over two
years in two programs, 70% ACTIVE / 15% PAUSED / 15% CANCELLED (with reasons), one line each, and
renewal orders over the last 60 days with a failed payment attempt on one in ten."""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from subscriptions.management.commands.seed_demo import insert_rows
from subscriptions.models import (
    Order,
    PaymentAttempt,
    Plan,
    Shop,
    Subscription,
    SubscriptionLine,
    SubscriptionProgram,
)
from tests.benchmarks.dataset import BATCH, catalogue, fresh_shop, insert_customers

REASONS = ("Too expensive", "Too much product", "Moving", "", "Other")


def _ids(model, shop: Shop, after: int) -> list[int]:
    return list(model.objects.filter(shop=shop, pk__gt=after).order_by("pk").values_list("pk", flat=True))


def _last(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def console_shop(kind: str, count: int, *, orders: int | None = None, seed: int = 11) -> tuple[Shop, dict]:
    rng = random.Random(seed)
    shop = fresh_shop(kind)
    monthly, variants = catalogue(shop)
    second = SubscriptionProgram.objects.create(shop=shop, name="Benchmark tea")
    weekly = Plan.objects.create(
        shop=shop, program=second, name="Every 2 weeks", interval_unit="week", interval_count=2
    )
    plans = [monthly, weekly]
    customers = insert_customers(shop, max(1, count // 3), cards=False)
    now = timezone.now()
    today = now.date()
    counts = {"ACTIVE": 0, "PAUSED": 0, "CANCELLED": 0}
    for start in range(0, count, BATCH):
        rows = []
        for i in range(start, min(count, start + BATCH)):
            status = rng.choices(("ACTIVE", "PAUSED", "CANCELLED"), weights=(70, 15, 15))[0]
            counts[status] += 1
            created = now - dt.timedelta(days=rng.uniform(0, 730))
            cancelled = created + (now - created) * rng.random() if status == "CANCELLED" else None
            date = today + dt.timedelta(days=rng.randint(0, 60)) if status != "CANCELLED" else None
            rows.append(
                (
                    shop.pk,
                    customers[i % len(customers)][0],
                    plans[i % 2].pk,
                    status,
                    date,
                    date.day if date else None,
                )
                + ("USD", created, now, cancelled, rng.choice(REASONS) if cancelled else "")
            )
        with transaction.atomic():
            first = _last(Subscription)
            insert_rows(
                Subscription,
                ["shop", "customer", "plan", "status", "next_billing_date", "anchor_day", "currency"]
                + ["created_at", "updated_at", "cancelled_at", "cancel_reason"],
                rows,
            )
            new = _ids(Subscription, shop, first)
            insert_rows(
                SubscriptionLine,
                ["shop", "subscription", "variant", "quantity", "unit_price"],
                [
                    (shop.pk, sub, variants[n % 3].pk, 1 + n % 2, Decimal("16.00"))
                    for n, sub in enumerate(new)
                ],
            )
    order_count = count // 5 if orders is None else orders
    subs = list(Subscription.objects.filter(shop=shop).values_list("pk", "customer_id")[:order_count])
    for start in range(0, len(subs), BATCH):
        batch = subs[start : start + BATCH]
        with transaction.atomic():
            first = _last(Order)
            order_rows, outcomes = [], []
            for sub, customer in batch:
                created = now - dt.timedelta(days=rng.uniform(0, 60))
                failed = rng.random() < 0.1
                recovered = failed and rng.random() < 0.5
                status = "failed" if failed and not recovered else "paid"
                order_rows.append(
                    (
                        shop.pk,
                        customer,
                        sub,
                        created.date(),
                        status,
                        "USD",
                        Decimal("32.00"),
                        Decimal("32.00"),
                    )
                    + (created, created if status == "paid" else None, 1)
                )
                outcomes.append(failed)
            insert_rows(
                Order,
                [
                    "shop",
                    "customer",
                    "subscription",
                    "billing_date",
                    "status",
                    "currency",
                    "subtotal",
                    "total",
                ]
                + ["created_at", "paid_at", "attempt_count"],
                order_rows,
            )
            new = _ids(Order, shop, first)
            insert_rows(
                PaymentAttempt,
                ["shop", "order", "number", "idempotency_key", "amount", "currency", "gateway", "status"]
                + ["created_at"],
                [
                    (shop.pk, order, 1, f"bench-{shop.pk}-{order}-1", Decimal("32.00"), "USD", "test")
                    + ("failed" if failed else "succeeded", now)
                    for order, failed in zip(new, outcomes, strict=True)
                ],
            )
    return shop, {"counts": counts, "orders": len(subs), "programs": [monthly.program_id, second.pk]}
