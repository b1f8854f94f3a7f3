"""Billing renewals through the engine (`shop_run_billing`, test gateway) against the least any
billing loop must do for the same subscriptions in the same run: read them with their lines,
bulk-insert the orders and order lines (`bulk_create`) and charge each on the test gateway
(`SandboxGateway.charge`). Target: engine >= 0.3 x that floor, in subscriptions per second.

The engine does much more per renewal, all once-only: a locked read of the subscription, skip and
gift checks, the order in its own transaction, a payment attempt row with the idempotency key, the
settle transaction, the order count, an activity entry and a `subscription.transaction_succeeded`
outbox event. The relay is a separate worker's job and is not kicked here."""

import datetime as dt
import time
from decimal import Decimal

from tests.benchmarks.dataset import (
    catalogue,
    delete_shop,
    fresh_shop,
    insert_customers,
    insert_subscriptions,
)
from tests.benchmarks.harness import Context, Result

BASELINE_KEY_PREFIX = "bench-baseline-"


def _dataset(count: int, billing_date: dt.date):
    shop = fresh_shop("billing", charge_key_prefix=BASELINE_KEY_PREFIX)
    plan, variants = catalogue(shop)
    customers = insert_customers(shop, count)
    insert_subscriptions(
        shop,
        plan,
        [(c, card, address, "ACTIVE", billing_date) for c, card, address in customers],
        variants=variants,
    )
    return shop


def _engine(shop, billing_date: dt.date) -> float:
    from subscriptions.models import Order
    from subscriptions.services.billing import shop_run_billing
    from webhooks import outbox

    kick, outbox._kick_relay = outbox._kick_relay, lambda: None
    try:
        started = time.perf_counter()
        run = shop_run_billing(shop=shop, run_date=billing_date)
        elapsed = time.perf_counter() - started
    finally:
        outbox._kick_relay = kick
    paid = Order.objects.filter(shop=shop, billing_date=billing_date, status=Order.Status.PAID).count()
    if run.charged != paid:
        raise RuntimeError(f"engine: {run.charged} charged but {paid} orders paid")
    return elapsed


def _baseline(shop, billing_date: dt.date) -> tuple[float, int]:
    """The floor: one read, bulk inserts, one gateway call per order. No locks, no attempt rows, no
    events; the orders are for another date so they do not collide with the engine's."""
    from django.db import transaction
    from django.utils import timezone

    from subscriptions.adapters.payments import SandboxGateway
    from subscriptions.models import Order, OrderLine, Subscription

    gateway = SandboxGateway()
    started = time.perf_counter()
    subs = list(
        Subscription.objects.filter(shop=shop, status="ACTIVE")
        .select_related("payment_method", "shipping_address")
        .prefetch_related("lines__variant__product")
    )
    now = timezone.now()
    with transaction.atomic():
        orders = Order.objects.bulk_create(
            [
                Order(
                    shop=shop,
                    customer_id=sub.customer_id,
                    subscription=sub,
                    billing_date=billing_date,
                    status=Order.Status.PAID,
                    currency=sub.currency,
                    subtotal=(
                        total := sum((ln.unit_price * ln.quantity for ln in sub.lines.all()), Decimal(0))
                    ),
                    total=total,
                    shipping_address=sub.shipping_address.as_dict(),
                    created_at=now,
                    paid_at=now,
                )
                for sub in subs
            ],
            batch_size=1000,
        )
        OrderLine.objects.bulk_create(
            [
                OrderLine(
                    shop=shop,
                    order=order,
                    variant=line.variant,
                    title=f"{line.variant.product.title} — {line.variant.title}",
                    sku=line.variant.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    total=line.unit_price * line.quantity,
                )
                for order, sub in zip(orders, subs, strict=True)
                for line in sub.lines.all()
            ],
            batch_size=1000,
        )
    for order, sub in zip(orders, subs, strict=True):
        result = gateway.charge(
            payment_method=sub.payment_method,
            amount=order.total,
            currency=order.currency,
            idempotency_key=f"{BASELINE_KEY_PREFIX}{shop.pk}-{order.pk}",
            description=f"{shop.name} order {order.pk} ({billing_date})",
        )
        if result.status != "succeeded":
            raise RuntimeError(f"baseline charge {order.pk}: {result}")
    return time.perf_counter() - started, len(subs)


def run(ctx: Context) -> list[Result]:
    count = 2000 if ctx.quick else 10000
    billing_date = dt.date(2025, 6, 1)
    shop = None
    try:
        shop = _dataset(count, billing_date)
        # The floor first (it also warms the database pages both read); its orders are a day earlier.
        baseline_s, billed = _baseline(shop, billing_date - dt.timedelta(days=1))
        engine_s = _engine(shop, billing_date)
    finally:
        if shop is not None:
            delete_shop(shop, charge_key_prefix=BASELINE_KEY_PREFIX)
    if billed != count:
        raise RuntimeError(f"baseline billed {billed} of {count}")
    return [
        Result(
            name="billing run (shop_run_billing, test gateway)",
            unit="subs/s",
            figure=count / engine_s,
            baseline=count / baseline_s,
            baseline_name="bulk_create of the same orders + lines, SandboxGateway.charge each",
            target=">= 0.3",
            ratio_min=0.3,
            notes=f"{count} ACTIVE subscriptions due on one date (1-2 lines each) in a shop of their own; "
            f"engine {engine_s:.1f} s, floor {baseline_s:.1f} s. Each renewal: order, attempt with "
            "idempotency key, settle, order count, activity entry, outbox event.",
            extra={
                "engine_s": round(engine_s, 2),
                "baseline_s": round(baseline_s, 2),
                "subscriptions": count,
            },
        )
    ]
