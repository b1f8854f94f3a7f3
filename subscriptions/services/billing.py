"""Renewals and dunning.

Rules:
- A subscription is due when ACTIVE and its next billing date is on or before the run's (shop-local)
  date. Skipped dates are consumed without a charge; PAUSED and CANCELLED are never billed.
- Exactly one order per (subscription, billing date) — a unique constraint — and exactly one
  payment attempt per (order, attempt number), whose idempotency key goes to the gateway. A crash
  between creating the order and charging it leaves a PENDING order that the next run charges with
  the same key, so the customer is charged at most once.
- Success counts the order and, for a renewal, the next billing date has already moved on by the
  plan interval. Failure emits `subscription.transaction_failed` and schedules dunning retries per
  the shop's settings; after the last one the shop's final action applies.
"""

import datetime as dt
import logging
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q
from django.utils import timezone

from subscriptions.actors import SYSTEM, Actor
from subscriptions.adapters.payments import ChargeResult, gateway_for
from subscriptions.events import emit_subscription_event, subscription_event
from subscriptions.models import (
    ActivityLog,
    BillingRun,
    DiscountCode,
    Gift,
    Order,
    OrderLine,
    PaymentAttempt,
    Shop,
    SkippedDate,
    Subscription,
    SubscriptionDiscount,
    SubscriptionLine,
)
from subscriptions.services import lifecycle
from subscriptions.services.common import activity_entry, fmt, log_activity, retry_when_locked
from webhooks import outbox

log = logging.getLogger(__name__)
Status = Subscription.Status
CHARGE_LEASE = dt.timedelta(minutes=5)
CENT = Decimal("0.01")
# At most this many missed dates of one subscription are caught up in one run (a daily plan after a
# long outage); the rest follow in the next runs.
MAX_CATCH_UP = 60
# Renewals started (and settled) together in one transaction.
RENEWAL_BATCH = 100


def _order_data(order: Order) -> dict:
    return {
        "id": order.pk,
        "billing_date": order.billing_date,
        "status": order.status,
        "subtotal": order.subtotal,
        "discount_total": order.discount_total,
        "total": order.total,
        "currency": order.currency,
        "is_gift": order.is_gift,
        "attempt_count": order.attempt_count,
        "next_retry_date": order.next_retry_date,
    }


# ---------------------------------------------------------------- building the order


def _consume_skips(sub: Subscription, run_date: dt.date) -> int:
    """Step over skipped dates that are due; returns how many were consumed."""
    consumed = 0
    while sub.next_billing_date is not None and sub.next_billing_date <= run_date:
        skip = SkippedDate.objects.filter(
            subscription=sub, date=sub.next_billing_date, unskipped_at__isnull=True
        ).first()
        if skip is None:
            break
        skipped_date = sub.next_billing_date
        sub.next_billing_date = sub.date_after(skipped_date)
        consumed += 1
        log_activity(
            shop=sub.shop,
            actor=SYSTEM,
            action="skip_consumed",
            subscription=sub,
            description=f"Order of {fmt(skipped_date)} skipped as requested; next order {fmt(sub.next_billing_date)}",
        )
    if consumed:
        sub.save(update_fields=["next_billing_date", "updated_at"])
    return consumed


def _new_order(
    sub: Subscription,
    billing_date: dt.date,
    lines: list[SubscriptionLine],
    discounts: list[SubscriptionDiscount],
    gift: Gift | None,
) -> tuple[Order | None, list[SubscriptionLine], list[SubscriptionLine]]:
    """The unsaved order of one renewal, priced and discounted, with the lines it ships and those
    left out; no order when nothing can ship (every line unavailable, or the shop skips orders with
    an unavailable line). `lines` in id order, `discounts` the active ones in the order applied."""
    shop = sub.shop
    available = [line for line in lines if line.variant.purchasable]
    unavailable = [line for line in lines if not line.variant.purchasable]
    if unavailable and (
        shop.unavailable_product_action == Shop.UnavailableAction.SKIP_ORDER or not available
    ):
        return None, available, unavailable
    subtotal = sum((line.unit_price * line.quantity for line in available), Decimal("0.00"))
    discount_total = Decimal("0.00")
    for applied in discounts:
        if applied.payments_remaining is not None and applied.payments_remaining <= 0:
            continue
        discount_total += applied.code.amount_off(subtotal - discount_total)
    if gift is not None:
        address = {
            "first_name": gift.recipient_first_name,
            "last_name": gift.recipient_last_name,
            "line1": gift.line1,
            "line2": gift.line2,
            "city": gift.city,
            "province": gift.province,
            "postal_code": gift.postal_code,
            "country": gift.country,
            "email": gift.recipient_email,
            "gift_message": gift.message,
        }
    else:
        address = sub.shipping_address.as_dict() if sub.shipping_address else {}
    order = Order(
        shop=shop,
        customer=sub.customer,
        subscription=sub,
        billing_date=billing_date,
        status=Order.Status.PENDING,
        currency=sub.currency,
        subtotal=subtotal,
        discount_total=discount_total,
        total=max(Decimal("0.00"), subtotal - discount_total).quantize(CENT),
        shipping_address=address,
        is_gift=gift is not None,
    )
    return order, available, unavailable


def _order_lines(order: Order, available: list[SubscriptionLine]) -> list[OrderLine]:
    return [
        OrderLine(
            shop=order.shop,
            order=order,
            variant=line.variant,
            title=f"{line.variant.product.title} — {line.variant.title}",
            sku=line.variant.sku,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.unit_price * line.quantity,
        )
        for line in available
    ]


# Scope: a renewal is a subscription payment, so codes for one-time purchases never price one.
NOT_FOR_RENEWALS = Q(code__applies_to=DiscountCode.AppliesTo.ONE_TIME)


def _counted_discounts():
    """Applied discounts that last a number of payments and have some left."""
    return SubscriptionDiscount.objects.filter(removed_at__isnull=True, payments_remaining__gt=0).exclude(
        NOT_FOR_RENEWALS
    )


def _active_discounts(subscription_ids: list[int]):
    return (
        SubscriptionDiscount.objects.filter(subscription_id__in=subscription_ids, removed_at__isnull=True)
        .exclude(NOT_FOR_RENEWALS)
        .select_related("code")
        .order_by("applied_at", "pk")
    )


def _build_order(sub: Subscription, billing_date: dt.date) -> Order | None:
    """Create the PENDING order of one renewal (see `_new_order`); None when nothing can ship."""
    shop = sub.shop
    lines = list(sub.lines.select_related("variant__product").order_by("id"))
    discounts = list(_active_discounts([sub.pk]))
    gift = Gift.objects.filter(subscription=sub, billing_date=billing_date).first()
    order, available, unavailable = _new_order(sub, billing_date, lines, discounts, gift)
    if order is None:
        return None
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(_order_lines(order, available))
    if unavailable:
        log_activity(
            shop=shop,
            actor=SYSTEM,
            action="lines_left_out",
            subscription=sub,
            description="Left out of the order (unavailable): "
            + ", ".join(line.variant.sku for line in unavailable),
        )
    return order


def _start_renewals(subscription_ids: list[int], run_date: dt.date) -> tuple[list[Order], list[int]]:
    """The common case of many renewals in one transaction: the due subscriptions among these, each
    with no skip on its date and every line available, get the PENDING order of that date (with
    its first payment attempt, leased for charging) and move to their next date — as
    `_start_renewal` does one by one. Returns (the orders to charge, the ids `_start_renewal` must
    take one by one: a skip to consume, an unavailable line, or a renewal that exists already)."""
    try:
        return retry_when_locked(_start_renewals_once, subscription_ids, run_date)
    except IntegrityError:
        return [], list(subscription_ids)  # one of them was billed meanwhile: one by one finds it


def _start_renewals_once(subscription_ids: list[int], run_date: dt.date) -> tuple[list[Order], list[int]]:
    with transaction.atomic():
        subs = list(
            Subscription.objects.select_for_update(of=("self",))
            .select_related("shop", "customer", "plan__program", "shipping_address", "payment_method")
            .filter(pk__in=subscription_ids, status=Status.ACTIVE, next_billing_date__lte=run_date)
            .order_by("pk")
        )
        if not subs:
            return [], []
        ids = [sub.pk for sub in subs]
        lines: dict[int, list[SubscriptionLine]] = {}
        for line in (
            SubscriptionLine.objects.filter(subscription_id__in=ids)
            .select_related("variant__product")
            .order_by("id")
        ):
            lines.setdefault(line.subscription_id, []).append(line)
        discounts: dict[int, list[SubscriptionDiscount]] = {}
        for applied in _active_discounts(ids):
            discounts.setdefault(applied.subscription_id, []).append(applied)
        skips = set(
            SkippedDate.objects.filter(
                subscription_id__in=ids, date__lte=run_date, unskipped_at__isnull=True
            ).values_list("subscription_id", "date")
        )
        gifts = {
            (gift.subscription_id, gift.billing_date): gift
            for gift in Gift.objects.filter(subscription_id__in=ids, billing_date__lte=run_date)
        }
        now = timezone.now()
        one_by_one, renewing, orders, order_lines = [], [], [], []
        for sub in subs:
            date = sub.next_billing_date
            sub_lines = lines.get(sub.pk, [])
            if (sub.pk, date) in skips or not all(line.variant.purchasable for line in sub_lines):
                one_by_one.append(sub.pk)
                continue
            order, available, _ = _new_order(
                sub, date, sub_lines, discounts.get(sub.pk, []), gifts.get((sub.pk, date))
            )
            order.charging_until = now + CHARGE_LEASE
            order.attempt_count = 1
            orders.append(order)
            order_lines.append((order, available))
            sub.next_billing_date = sub.date_after(date)
            sub.updated_at = now
            renewing.append(sub)
        if not orders:
            return [], one_by_one
        Order.objects.bulk_create(orders)
        OrderLine.objects.bulk_create(
            [ol for order, available in order_lines for ol in _order_lines(order, available)]
        )
        PaymentAttempt.objects.bulk_create(_first_attempt(order) for order in orders)
        by_next_date: dict[dt.date, list[int]] = {}
        for sub in renewing:
            by_next_date.setdefault(sub.next_billing_date, []).append(sub.pk)
        for next_date, pks in by_next_date.items():  # one UPDATE per next date (bulk_update is slow)
            Subscription.objects.filter(pk__in=pks).update(next_billing_date=next_date, updated_at=now)
        return orders, one_by_one


def _first_attempt(order: Order) -> PaymentAttempt:
    sub = order.subscription
    return PaymentAttempt(
        shop=order.shop,
        order=order,
        number=1,
        idempotency_key=_idempotency_key(order, 1),
        amount=order.total,
        currency=order.currency,
        gateway=sub.payment_method.gateway if sub.payment_method_id else "",
    )


def _start_renewal(subscription_id: int, run_date: dt.date) -> tuple[Order | None, bool]:
    """In one transaction: consume due skips, then create the PENDING order of the due date and move
    the subscription to its next date. Returns (the order to charge or None, whether a due date was
    consumed — then another date missed while billing did not run may still be due)."""
    return retry_when_locked(_start_renewal_once, subscription_id, run_date)


def _start_renewal_once(subscription_id: int, run_date: dt.date) -> tuple[Order | None, bool]:
    with transaction.atomic():
        sub = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("shop", "customer", "plan__program", "shipping_address")
            .get(pk=subscription_id)
        )
        if sub.status != Status.ACTIVE or sub.next_billing_date is None or sub.next_billing_date > run_date:
            return None, False
        consumed = _consume_skips(sub, run_date)
        if sub.next_billing_date > run_date:
            return None, bool(consumed)
        billing_date = sub.next_billing_date
        try:
            with transaction.atomic():
                order = _build_order(sub, billing_date)
        except IntegrityError:
            return None, False  # another run created this renewal first: it charges it
        sub.next_billing_date = sub.date_after(billing_date)
        sub.save(update_fields=["next_billing_date", "updated_at"])
        if order is None:
            log_activity(
                shop=sub.shop,
                actor=SYSTEM,
                action="order_skipped_unavailable",
                subscription=sub,
                description=f"Order of {fmt(billing_date)} skipped: a product is unavailable",
            )
            return None, True
        order.charging_until = timezone.now() + CHARGE_LEASE
        order.attempt_count = 1
        order.save(update_fields=["charging_until", "attempt_count"])
        return order, True


# ---------------------------------------------------------------- charging


def _idempotency_key(order: Order, number: int) -> str:
    return f"order-{order.pk}-{order.billing_date}-{number}"


def _charge(order: Order, number: int) -> str:
    """Charge one attempt of an order (outside any transaction), then settle it. Returns the order status."""
    order = Order.objects.select_related("subscription__payment_method", "subscription__plan", "shop").get(
        pk=order.pk
    )
    sub = order.subscription
    key = _idempotency_key(order, number)
    attempt, _ = PaymentAttempt.objects.get_or_create(
        order=order,
        number=number,
        defaults={
            "shop": order.shop,
            "idempotency_key": key,
            "amount": order.total,
            "currency": order.currency,
            "gateway": sub.payment_method.gateway if sub and sub.payment_method_id else "",
        },
    )
    if attempt.status in (PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.FAILED):
        return order.status  # this attempt already has its answer
    return _settle(order.pk, attempt.pk, _ask_gateway(order, key))


def _ask_gateway(order: Order, key: str) -> ChargeResult:
    sub = order.subscription
    if order.total == 0:
        return ChargeResult("succeeded", reference="free")
    if sub is None or sub.payment_method is None:
        return ChargeResult("failed", code="no_payment_method", message="There is no payment method on file.")
    return gateway_for(sub.payment_method).charge(
        payment_method=sub.payment_method,
        amount=order.total,
        currency=order.currency,
        idempotency_key=key,
        description=f"{order.shop.name} order {order.pk} ({order.billing_date})",
    )


def _charge_started(orders: list[Order]) -> list[str]:
    """Charge the orders `_start_renewals` created (their first attempts), one by one, then settle
    them in one transaction (one by one if that fails). Returns the statuses of those settled; an
    order whose charge raised stays pending and is asked again, same key, by a later run."""
    answered = []
    for order in orders:
        try:
            answered.append((order.pk, _ask_gateway(order, _idempotency_key(order, 1))))
        except Exception:
            log.exception("charging order %s failed", order.pk)
    if not answered:
        return []
    try:
        return retry_when_locked(_settle_many_once, answered)
    except Exception:
        log.exception("settling %s orders together failed: settling them one by one", len(answered))
    statuses = []
    for order_id, result in answered:
        try:
            attempt_id = PaymentAttempt.objects.get(order_id=order_id, number=1).pk
            statuses.append(_settle(order_id, attempt_id, result))
        except Exception:
            log.exception("settling order %s failed", order_id)
    return statuses


def _settle_many_once(answered: list[tuple[int, ChargeResult]]) -> list[str]:
    ids = [order_id for order_id, _ in answered]
    with transaction.atomic():
        orders = {
            o.pk: o
            for o in Order.objects.select_for_update()
            .select_related("shop")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        attempts = {
            a.order_id: a
            for a in PaymentAttempt.objects.select_for_update()
            .filter(order_id__in=ids, number=1)
            .order_by("pk")
        }
        # What settling and its events read of each subscription, loaded for all of them at once.
        subs = {
            s.pk: s
            for s in Subscription.objects.select_for_update(of=("self",))
            .select_related("shop", "customer", "plan__program")
            .prefetch_related(
                Prefetch("lines", queryset=SubscriptionLine.objects.select_related("variant__product")),
                Prefetch(
                    "skips",
                    queryset=SkippedDate.objects.filter(unskipped_at__isnull=True),
                    to_attr="active_skips",
                ),
                Prefetch("discounts", queryset=_counted_discounts(), to_attr="counted_discounts"),
            )
            .filter(pk__in=[o.subscription_id for o in orders.values()])
            .order_by("pk")
        }
        plain, statuses = [], []
        for order_id, result in answered:
            order, attempt = orders[order_id], attempts[order_id]
            if _plain_success(order, attempt, result, subs[order.subscription_id]):
                plain.append((order, attempt, result))
                statuses.append(Order.Status.PAID)
            else:
                statuses.append(_apply_answer(order, attempt, result, lambda o: subs[o.subscription_id]))
        _settle_paid_together(plain, subs)
        return statuses


def _plain_success(order: Order, attempt: PaymentAttempt, result: ChargeResult, sub: Subscription) -> bool:
    """A first charge that succeeded and ends nothing (no plan completed): the common case of a
    run, settled together with the others by `_settle_paid_together`."""
    max_cycles = sub.plan.max_cycles
    return (
        result.status == "succeeded"
        and order.status == Order.Status.PENDING
        and attempt.status not in (PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.FAILED)
        and not (max_cycles and sub.order_count + 1 >= max_cycles)
    )


def _settle_paid_together(paid: list[tuple[Order, PaymentAttempt, ChargeResult]], subs) -> None:
    """What `_apply_answer` + `_on_paid` do for each success, as a handful of statements for all of
    them (inside the caller's transaction, rows locked): attempts and orders settled, order counts
    and counted discounts moved, one activity entry and one `transaction_succeeded` event each."""
    if not paid:
        return
    now = timezone.now()
    order_ids = [order.pk for order, _, _ in paid]
    sub_ids = [order.subscription_id for order, _, _ in paid]
    attempts = []
    for _, attempt, result in paid:
        attempt.gateway_reference = result.reference
        attempts.append(attempt)
    PaymentAttempt.objects.filter(pk__in=[a.pk for a in attempts]).update(
        status=PaymentAttempt.Status.SUCCEEDED, error_code="", message="", finished_at=now
    )
    PaymentAttempt.objects.bulk_update(attempts, ["gateway_reference"], batch_size=RENEWAL_BATCH)
    Order.objects.filter(pk__in=order_ids).update(
        status=Order.Status.PAID, paid_at=now, next_retry_date=None, failure_reason="", charging_until=None
    )
    Subscription.objects.filter(pk__in=sub_ids).update(order_count=F("order_count") + 1)
    _counted_discounts().filter(subscription_id__in=sub_ids).update(
        payments_remaining=F("payments_remaining") - 1
    )
    entries, events = [], []
    for order, _, _ in paid:
        order.status, order.paid_at, order.charging_until = Order.Status.PAID, now, None
        order.next_retry_date, order.failure_reason = None, ""
        sub = subs[order.subscription_id]
        sub.order_count += 1
        entries.append(
            activity_entry(
                shop=sub.shop,
                actor=SYSTEM,
                action="transaction_succeeded",
                subscription=sub,
                description=f"Order of {fmt(order.billing_date)} charged {order.total} {order.currency}",
                details={"order_id": order.pk},
            )
        )
        events.append(
            subscription_event(
                "subscription.transaction_succeeded", sub, actor=SYSTEM, extra={"order": _order_data(order)}
            )
        )
    ActivityLog.objects.bulk_create(entries)
    outbox.emit_many(events)


def _settle(order_id: int, attempt_id: int, result: ChargeResult) -> str:
    return retry_when_locked(_settle_once, order_id, attempt_id, result)


def _locked_subscription(order: Order) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("shop", "customer", "plan__program")
        .get(pk=order.subscription_id)
    )


def _settle_once(order_id: int, attempt_id: int, result: ChargeResult) -> str:
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("shop").get(pk=order_id)
        attempt = PaymentAttempt.objects.select_for_update().get(pk=attempt_id)
        return _apply_answer(order, attempt, result, _locked_subscription)


ANSWER_FIELDS = ["status", "gateway_reference", "error_code", "message", "finished_at"]


def _apply_answer(order: Order, attempt: PaymentAttempt, result: ChargeResult, locked_subscription) -> str:
    """Record the gateway's answer on the locked order and attempt (inside the caller's transaction)."""
    if attempt.status in (PaymentAttempt.Status.SUCCEEDED, PaymentAttempt.Status.FAILED):
        return order.status
    attempt.gateway_reference = result.reference
    attempt.error_code = result.code
    attempt.message = result.message[:500]
    order.charging_until = None
    if result.status == "error":
        # Unknown outcome: keep the order pending; the next run asks again with the same key.
        attempt.status = PaymentAttempt.Status.ERROR
        attempt.save(update_fields=["status", "gateway_reference", "error_code", "message"])
        order.save(update_fields=["charging_until"])
        return order.status
    attempt.finished_at = timezone.now()
    sub = locked_subscription(order)
    if result.status == "succeeded":
        attempt.status = PaymentAttempt.Status.SUCCEEDED
        attempt.save(update_fields=ANSWER_FIELDS)
        _on_paid(order, sub)
    else:
        attempt.status = PaymentAttempt.Status.FAILED
        attempt.save(update_fields=ANSWER_FIELDS)
        _on_failed(order, sub, result)
    return order.status


def _on_paid(order: Order, sub: Subscription) -> None:
    was_retry = order.status == Order.Status.FAILED
    order.status = Order.Status.PAID
    order.paid_at = timezone.now()
    order.next_retry_date = None
    order.failure_reason = ""
    order.save(update_fields=["status", "paid_at", "next_retry_date", "failure_reason", "charging_until"])
    Subscription.objects.filter(pk=sub.pk).update(order_count=F("order_count") + 1)
    sub.order_count += 1  # the row is locked (or, on SQLite, this transaction the only writer)
    if getattr(sub, "counted_discounts", True):  # prefetched by a batch: nothing to count down
        _counted_discounts().filter(subscription=sub).update(payments_remaining=F("payments_remaining") - 1)
    log_activity(
        shop=sub.shop,
        actor=SYSTEM,
        action="transaction_succeeded",
        subscription=sub,
        description=f"Order of {fmt(order.billing_date)} charged {order.total} {order.currency}"
        + (" after a retry" if was_retry else ""),
        details={"order_id": order.pk},
    )
    emit_subscription_event(
        "subscription.transaction_succeeded", sub, actor=SYSTEM, extra={"order": _order_data(order)}
    )
    max_cycles = sub.plan.max_cycles
    if max_cycles and sub.order_count >= max_cycles and sub.status != Status.CANCELLED:
        lifecycle.subscription_cancel(
            subscription=sub, actor=SYSTEM, reason=f"Plan completed after {max_cycles} orders"
        )


def _on_failed(order: Order, sub: Subscription, result: ChargeResult) -> None:
    shop = order.shop
    order.status = Order.Status.FAILED
    order.failure_reason = (result.message or result.code)[:500]
    retries_used = order.attempt_count - 1
    if retries_used < shop.dunning_retries:
        order.next_retry_date = shop.local_today() + dt.timedelta(days=shop.dunning_retry_interval_days)
    else:
        order.next_retry_date = None
    order.save(update_fields=["status", "failure_reason", "next_retry_date", "charging_until"])
    log_activity(
        shop=shop,
        actor=SYSTEM,
        action="transaction_failed",
        subscription=sub,
        description=f"Payment for the order of {fmt(order.billing_date)} failed: {order.failure_reason}"
        + (f"; retry on {fmt(order.next_retry_date)}" if order.next_retry_date else "; no retries left"),
        details={"order_id": order.pk, "code": result.code},
    )
    emit_subscription_event(
        "subscription.transaction_failed",
        sub,
        actor=SYSTEM,
        extra={
            "order": _order_data(order),
            "failure_reason": order.failure_reason,
            "failure_code": result.code,
            "retry_date": order.next_retry_date.isoformat() if order.next_retry_date else "",
        },
    )
    if order.next_retry_date is None:
        _final_action(order, sub)


def _final_action(order: Order, sub: Subscription) -> None:
    """Dunning gave up: the shop decides what happens to the subscription."""
    action = order.shop.dunning_final_action
    reason = f"Payment failed after {order.attempt_count} attempts"
    if sub.status == Status.CANCELLED:
        return
    if action == Shop.FinalAction.CANCEL:
        lifecycle.subscription_cancel(subscription=sub, actor=SYSTEM, reason=reason)
    elif action == Shop.FinalAction.PAUSE and sub.status == Status.ACTIVE:
        lifecycle.subscription_pause(subscription=sub, actor=SYSTEM)
    else:
        order.status = Order.Status.CANCELLED
        order.save(update_fields=["status"])
        log_activity(
            shop=sub.shop,
            actor=SYSTEM,
            action="order_given_up",
            subscription=sub,
            description=f"{reason}: the order of {fmt(order.billing_date)} is skipped",
        )


# ---------------------------------------------------------------- entry points


def subscription_renew(*, subscription: Subscription, run_date: dt.date) -> Order | None:
    """Bill one subscription for a run date (idempotent: a second call finds nothing due)."""
    order, _ = _start_renewal(subscription.pk, run_date)
    if order is None:
        return None
    _charge(order, 1)
    order.refresh_from_db()
    return order


def _claim_order(order_id: int, *, statuses: tuple[str, ...]) -> Order | None:
    return retry_when_locked(_claim_order_once, order_id, statuses=statuses)


def _claim_order_once(order_id: int, *, statuses: tuple[str, ...]) -> Order | None:
    now = timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(skip_locked=True)
            .filter(pk=order_id, status__in=statuses)
            .filter(Q(charging_until__isnull=True) | Q(charging_until__lt=now))
            .first()
        )
        if order is None:
            return None
        order.charging_until = now + CHARGE_LEASE
        order.save(update_fields=["charging_until"])
        return order


def order_retry_payment(*, order: Order, actor: Actor = SYSTEM) -> str:
    """A dunning retry (scheduled, after a payment method update, or asked for by staff/API): the
    next attempt number, its own idempotency key. A paid order is never charged again."""
    claimed = _claim_order(order.pk, statuses=(Order.Status.FAILED,))
    if claimed is None:
        return Order.objects.get(pk=order.pk).status
    sub = claimed.subscription
    if sub is None or sub.status == Status.CANCELLED:
        Order.objects.filter(pk=claimed.pk).update(charging_until=None, next_retry_date=None)
        return claimed.status
    last = claimed.payment_attempts.filter(number=claimed.attempt_count).first()
    if last is None or last.status not in (PaymentAttempt.Status.ERROR, PaymentAttempt.Status.PENDING):
        Order.objects.filter(pk=claimed.pk).update(attempt_count=claimed.attempt_count + 1)
        claimed.attempt_count += 1
    # else the last retry never got an answer (gateway unreachable, worker died) and may have
    # charged: ask again with the same attempt number, so with the same idempotency key.
    if actor != SYSTEM:
        log_activity(
            shop=claimed.shop,
            actor=actor,
            action="payment_retry",
            subscription=sub,
            description=f"Payment retry requested for the order of {fmt(claimed.billing_date)}",
        )
    return _charge(claimed, claimed.attempt_count)


def _resume_pending(order: Order) -> str:
    """A pending charge whose worker died or whose gateway could not be reached: ask again, same key."""
    claimed = _claim_order(order.pk, statuses=(Order.Status.PENDING,))
    if claimed is None:
        return order.status
    return _charge(claimed, max(1, claimed.attempt_count))


def shop_run_billing(*, shop: Shop, run_date: dt.date | None = None) -> BillingRun:
    """The shop's billing for one local date: renewals due, pending charges left over, dunning
    retries due. Safe to run again or concurrently (everything below is once-only)."""
    run_date = run_date or shop.local_today()
    run, _ = retry_when_locked(BillingRun.objects.get_or_create, shop=shop, run_date=run_date)
    charged = failed = skipped = 0
    charged_now: set[int] = set()  # a renewal that fails in this run is not retried in it too
    due = Subscription.objects.filter(
        shop=shop, status=Status.ACTIVE, next_billing_date__lte=run_date
    ).values_list("pk", flat=True)
    done: set[int] = set()  # nothing more to bill for these in this run (or they are broken)
    # Dates missed while billing did not run (workers down) are each billed once, oldest first:
    # each pass bills the oldest date due of every subscription, until none is due.
    for _ in range(MAX_CATCH_UP):
        ids = [pk for pk in due.iterator(chunk_size=2000) if pk not in done]
        if not ids:
            break
        for start in range(0, len(ids), RENEWAL_BATCH):
            batch = ids[start : start + RENEWAL_BATCH]
            try:
                started, one_by_one = _start_renewals(batch, run_date)
            except Exception:  # one broken subscription must not stop the shop's run
                log.exception("billing subscriptions %s failed: billing them one by one", batch)
                started, one_by_one = [], batch
            statuses = []
            if started:
                charged_now.update(order.pk for order in started)
                statuses += _charge_started(started)
            for sub_id in one_by_one:
                try:
                    order, consumed = _start_renewal(sub_id, run_date)
                    if order is None:
                        if consumed:
                            skipped += 1
                        else:
                            done.add(sub_id)
                        continue
                    charged_now.add(order.pk)
                    statuses.append(_charge(order, 1))
                except Exception:
                    log.exception("billing subscription %s failed", sub_id)
                    done.add(sub_id)
            charged += statuses.count(Order.Status.PAID)
            failed += statuses.count(Order.Status.FAILED)
    stale = Order.objects.filter(
        shop=shop, status=Order.Status.PENDING, subscription__isnull=False, billing_date__lte=run_date
    )
    for order in stale.filter(Q(charging_until__isnull=True) | Q(charging_until__lt=timezone.now())):
        try:
            _resume_pending(order)
        except Exception:
            log.exception("resuming the pending charge of order %s failed", order.pk)
    retries = Order.objects.filter(
        shop=shop, status=Order.Status.FAILED, next_retry_date__lte=run_date
    ).exclude(pk__in=charged_now)
    for order in retries:
        try:
            order_retry_payment(order=order)
        except Exception:
            log.exception("retrying the payment of order %s failed", order.pk)
    BillingRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        charged=F("charged") + charged,
        failed=F("failed") + failed,
        skipped=F("skipped") + skipped,
    )
    run.refresh_from_db()
    return run


def billing_tick(*, now: dt.datetime | None = None) -> list[int]:
    """Run billing for every shop whose local billing time has passed today and that has not run
    today. A tick missed while workers were down is caught up by the next one."""
    now = now or timezone.now()
    started = []
    for shop in Shop.objects.all():
        local = now.astimezone(shop.tz)
        if local.time() < shop.billing_time:
            continue
        if BillingRun.objects.filter(shop=shop, run_date=local.date()).exists():
            continue
        try:
            with transaction.atomic():
                BillingRun.objects.create(shop=shop, run_date=local.date())
        except IntegrityError:
            continue  # another tick took it
        shop_run_billing(shop=shop, run_date=local.date())
        started.append(shop.pk)
    return started


def retry_after_payment_method_update(*, subscription: Subscription) -> list[str]:
    """Updating the payment method retries the failed orders of this subscription at once."""
    failed = Order.objects.filter(subscription=subscription, status=Order.Status.FAILED).order_by(
        "billing_date"
    )
    return [order_retry_payment(order=order) for order in failed]
