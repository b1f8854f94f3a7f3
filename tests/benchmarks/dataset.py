"""Big datasets for one benchmark run, in a shop of their own inside the benchmark database.

Rows go in with seed_demo's `insert_rows` (plain executemany, no model instances), and the whole
shop is deleted table by table afterwards; leftovers of an interrupted run are removed the next time.
"""

import datetime as dt
import uuid
from decimal import Decimal

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from subscriptions.management.commands.seed_demo import insert_rows
from subscriptions.models import (
    Address,
    Customer,
    PaymentAttempt,
    PaymentMethod,
    Plan,
    Product,
    SandboxCharge,
    Shop,
    Subscription,
    SubscriptionLine,
    SubscriptionProgram,
    Variant,
)

BATCH = 50_000


def fresh_shop(kind: str, *, charge_key_prefix: str = "") -> Shop:
    """A new shop for this run (`bench-<kind>-<random>.example`), after removing earlier ones."""
    for old in Shop.objects.filter(domain__startswith=f"bench-{kind}-"):
        delete_shop(old, charge_key_prefix=charge_key_prefix)
    return Shop.objects.create(
        domain=f"bench-{kind}-{uuid.uuid4().hex[:8]}.example",
        name=f"Benchmark {kind}",
        currency="USD",
        timezone="UTC",
    )


def catalogue(shop: Shop) -> tuple[Plan, list[Variant]]:
    program = SubscriptionProgram.objects.create(shop=shop, name="Benchmark club")
    product = Product.objects.create(shop=shop, title="Benchmark beans")
    variants = [
        Variant.objects.create(
            shop=shop, product=product, title=f"Size {n}", sku=f"BENCH-{n}", price=Decimal("16.00")
        )
        for n in range(3)
    ]
    plan = Plan.objects.create(shop=shop, program=program, name="Monthly")
    return plan, variants


def _ids(model, shop: Shop, start_after: int) -> list[int]:
    return list(
        model.objects.filter(shop=shop, pk__gt=start_after).order_by("pk").values_list("pk", flat=True)
    )


def _last_id(model) -> int:
    return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def insert_customers(
    shop: Shop, count: int, *, cards: bool = True
) -> list[tuple[int, int | None, int | None]]:
    """`count` customers, each with a card on the test gateway and an address when `cards`:
    [(customer id, payment method id, address id)]."""
    now = timezone.now()
    with transaction.atomic():
        first = _last_id(Customer)
        insert_rows(
            Customer,
            ["shop", "email", "first_name", "last_name", "created_at", "updated_at"],
            [(shop.pk, f"c{i}@bench.example", "Bench", f"Customer {i}", now, now) for i in range(count)],
        )
        customers = _ids(Customer, shop, first)
        if not cards:
            return [(c, None, None) for c in customers]
        first_card, first_address = _last_id(PaymentMethod), _last_id(Address)
        insert_rows(
            PaymentMethod,
            ["shop", "customer", "gateway", "token", "brand", "last4", "created_at"],
            [(shop.pk, c, "test", "tok_success", "Visa", "4242", now) for c in customers],
        )
        insert_rows(
            Address,
            ["shop", "customer", "first_name", "last_name", "line1", "city", "postal_code", "country"],
            [(shop.pk, c, "Bench", "Customer", "1 Main St", "Boston", "02110", "US") for c in customers],
        )
        cards_ = _ids(PaymentMethod, shop, first_card)
        addresses = _ids(Address, shop, first_address)
    return list(zip(customers, cards_, addresses, strict=True))


def insert_subscriptions(
    shop: Shop,
    plan: Plan,
    rows: list[tuple[int, int | None, int | None, str, dt.date]],
    *,
    variants: list[Variant] | None = None,
) -> list[int]:
    """Subscriptions from (customer, payment method, address, status, next billing date) rows, with
    one or two lines each when `variants` are given. Returns their ids in the order of `rows`."""
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with transaction.atomic():
            first = _last_id(Subscription)
            insert_rows(
                Subscription,
                [
                    "shop",
                    "customer",
                    "plan",
                    "status",
                    "next_billing_date",
                    "anchor_day",
                    "payment_method",
                    "shipping_address",
                    "currency",
                    "created_at",
                    "updated_at",
                ],
                [
                    (shop.pk, c, plan.pk, status, date, date.day if date else None, card, address)
                    + (shop.currency, now, now)
                    for c, card, address, status, date in batch
                ],
            )
            new = _ids(Subscription, shop, first)
            if variants:
                lines = []
                for n, sub_id in enumerate(new):
                    for variant in variants[: 1 + n % 2]:
                        lines.append((shop.pk, sub_id, variant.pk, 1 + n % 3, variant.price))
                insert_rows(
                    SubscriptionLine, ["shop", "subscription", "variant", "quantity", "unit_price"], lines
                )
        ids += new
    return ids


def delete_shop(shop: Shop, *, charge_key_prefix: str = "") -> None:
    """Delete every row of the shop: each table with a shop column, the attempts of its deliveries,
    and the test gateway's charges of its orders (and those whose key starts with the prefix).
    Raw DELETEs, no cascade: every table that can hold rows of a benchmark shop is covered, and the
    foreign keys are checked at commit."""
    from webhooks.models import Delivery, DeliveryAttempt

    qn = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(SandboxCharge._meta.db_table)} WHERE idempotency_key IN "
            f"(SELECT idempotency_key FROM {qn(PaymentAttempt._meta.db_table)} WHERE shop_id = %s)",
            [shop.pk],
        )
        if charge_key_prefix:
            cursor.execute(
                f"DELETE FROM {qn(SandboxCharge._meta.db_table)} WHERE idempotency_key LIKE %s",
                [charge_key_prefix + "%"],
            )
        cursor.execute(
            f"DELETE FROM {qn(DeliveryAttempt._meta.db_table)} WHERE delivery_id IN "
            f"(SELECT id FROM {qn(Delivery._meta.db_table)} WHERE shop_id = %s)",
            [shop.pk],
        )
        for model in apps.get_models():
            if model is not Shop and any(f.column == "shop_id" for f in model._meta.concrete_fields):
                cursor.execute(f"DELETE FROM {qn(model._meta.db_table)} WHERE shop_id = %s", [shop.pk])
        cursor.execute(f"DELETE FROM {qn(Shop._meta.db_table)} WHERE id = %s", [shop.pk])
