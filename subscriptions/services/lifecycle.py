"""Subscription lifecycle: one function per business action.

Each runs in one transaction: lock, validate, change, write the activity log and the domain
event(s) to the outbox. A refused action raises `DomainError` and changes nothing.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_customer_event, emit_subscription_event
from subscriptions.models import (
    Address,
    Customer,
    DiscountCode,
    Gift,
    PaymentMethod,
    Plan,
    SkippedDate,
    Subscription,
    SubscriptionDiscount,
    SubscriptionLine,
    Variant,
    add_interval,
)
from subscriptions.selectors import effective_next_order_date
from subscriptions.services.common import (
    clean_address,
    fmt,
    lock_subscription,
    log_activity,
    require_future_date,
    require_same_shop,
    require_status,
)

Status = Subscription.Status
LIVE = (Status.ACTIVE, Status.PAUSED)
MAX_QUANTITY = 1000


# ---------------------------------------------------------------- helpers on upcoming dates


def upcoming_billing_dates(subscription: Subscription, count: int) -> list[dt.date]:
    """The next `count` scheduled billing dates, skipped or not, starting at next_billing_date."""
    dates: list[dt.date] = []
    date = subscription.next_billing_date
    while date is not None and len(dates) < count:
        dates.append(date)
        date = subscription.date_after(date)
    return dates


def active_skip_dates(subscription: Subscription) -> set[dt.date]:
    return set(subscription.skips.filter(unskipped_at__isnull=True).values_list("date", flat=True))


def next_order_date(subscription: Subscription) -> dt.date | None:
    """The next date an order will really be placed (the first scheduled date not skipped)."""
    return effective_next_order_date(subscription)


def _check_variant(subscription: Subscription, variant: Variant | None, *, field: str) -> Variant:
    require_same_shop(subscription, variant, field=field, label="product variant")
    if not variant.purchasable:
        raise DomainError("variant_unavailable", f"{variant} is not available to order.", field=field)
    return variant


def _check_quantity(quantity, *, field: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise DomainError("invalid_quantity", "Quantity must be a whole number.", field=field)
    if quantity < 1:
        raise DomainError("invalid_quantity", "Quantity must be at least 1.", field=field)
    if quantity > MAX_QUANTITY:
        raise DomainError("invalid_quantity", f"Quantity cannot exceed {MAX_QUANTITY}.", field=field)
    return quantity


# ---------------------------------------------------------------- create


@transaction.atomic
def subscription_create(
    *,
    customer: Customer,
    plan: Plan,
    lines: Iterable[tuple[Variant, int]],
    actor: Actor,
    payment_method: PaymentMethod | None = None,
    shipping_address: Address | None = None,
    next_billing_date: dt.date | None = None,
    external_id: str = "",
) -> Subscription:
    """A new ACTIVE subscription. Everything it refers to must be in the customer's shop; the first
    billing date is in the future (default: one interval from today). Sets subscriber-since."""
    shop = customer.shop
    if plan is None or plan.shop_id != shop.pk:
        raise DomainError("not_found", "That plan does not exist in this shop.", field="plan")
    if not plan.active or not plan.program.active:
        raise DomainError("plan_inactive", f"The plan {plan} is not offered any more.", field="plan")
    if payment_method is not None and payment_method.customer_id != customer.pk:
        raise DomainError(
            "not_found", "That payment method does not belong to this customer.", field="payment_method"
        )
    if shipping_address is not None and shipping_address.customer_id != customer.pk:
        raise DomainError(
            "not_found", "That address does not belong to this customer.", field="shipping_address"
        )
    lines = list(lines)
    if not lines:
        raise DomainError("no_lines", "A subscription needs at least one product.", field="lines")
    today = shop.local_today()
    if next_billing_date is None:
        next_billing_date = add_interval(today, plan.interval_unit, plan.interval_count)
    else:
        require_future_date(shop, next_billing_date, field="next_billing_date")

    subscription = Subscription(
        shop=shop,
        customer=customer,
        plan=plan,
        status=Status.ACTIVE,
        next_billing_date=next_billing_date,
        anchor_day=next_billing_date.day,
        payment_method=payment_method,
        shipping_address=shipping_address,
        currency=shop.currency,
        external_id=external_id,
    )
    seen: set[int] = set()
    line_rows = []
    for index, (variant, quantity) in enumerate(lines):
        field = f"lines[{index}]"
        _check_variant(subscription, variant, field=f"{field}.variant")
        _check_quantity(quantity, field=f"{field}.quantity")
        if variant.pk in seen:
            raise DomainError(
                "duplicate_line", f"{variant} appears twice; change its quantity instead.", field=field
            )
        seen.add(variant.pk)
        line_rows.append((variant, quantity))
    subscription.save()
    SubscriptionLine.objects.bulk_create(
        SubscriptionLine(
            shop=shop, subscription=subscription, variant=v, quantity=q, unit_price=plan.unit_price(v.price)
        )
        for v, q in line_rows
    )
    if customer.subscriber_since is None:
        customer.subscriber_since = timezone.now()
        customer.save(update_fields=["subscriber_since", "updated_at"])
    log_activity(
        shop=shop,
        actor=actor,
        action="created",
        description=f"Subscription created on {plan}, first order {fmt(next_billing_date)}",
        subscription=subscription,
    )
    emit_subscription_event("subscription.created", subscription, actor=actor)
    return subscription


# ---------------------------------------------------------------- skip / unskip


@transaction.atomic
def subscription_skip(
    *, subscription: Subscription, actor: Actor, date: dt.date | None = None
) -> Subscription:
    """Skip the next order (or the order of a given scheduled date). The skipped date is consumed
    by billing without a charge; the next order moves to the following scheduled date."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.ACTIVE, action="skip an order")
    skipped = active_skip_dates(sub)
    if date is None:
        date = next_order_date(sub)
    else:
        require_future_date(sub.shop, date, field="date", allow_today=True)
        horizon = upcoming_billing_dates(sub, len(skipped) + 24)
        if date not in horizon:
            raise DomainError(
                "not_a_billing_date",
                f"{date.isoformat()} is not one of this subscription's order dates.",
                field="date",
            )
        if date in skipped:
            raise DomainError(
                "already_skipped", f"The order of {date.isoformat()} is already skipped.", field="date"
            )
    SkippedDate.objects.create(shop=sub.shop, subscription=sub, date=date)
    Gift.objects.filter(subscription=sub, billing_date=date).delete()
    new_next = next_order_date(sub)
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="skipped",
        subscription=sub,
        description=f"Order of {fmt(date)} skipped; next order {fmt(new_next)}",
        details={"skipped_date": date.isoformat()},
    )
    emit_subscription_event(
        "subscription.skipped",
        sub,
        actor=actor,
        extra={"skipped_date": date.isoformat()},
    )
    return sub


@transaction.atomic
def subscription_unskip(
    *, subscription: Subscription, actor: Actor, date: dt.date | None = None
) -> Subscription:
    """Undo a skip (the earliest one by default); only dates still ahead can be unskipped."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.ACTIVE, action="unskip an order")
    today = sub.shop.local_today()
    skips = sub.skips.filter(unskipped_at__isnull=True, date__gte=today).order_by("date")
    if date is not None:
        skips = skips.filter(date=date)
    skip = skips.first()
    if skip is None:
        what = f"the order of {date.isoformat()}" if date else "any upcoming order"
        raise DomainError(
            "not_skipped", f"There is no skip to undo for {what}.", field="date" if date else None
        )
    skip.unskipped_at = timezone.now()
    skip.save(update_fields=["unskipped_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="unskipped",
        subscription=sub,
        description=f"Skip of {fmt(skip.date)} undone",
        details={"date": skip.date.isoformat()},
    )
    emit_subscription_event(
        "subscription.unskipped",
        sub,
        actor=actor,
        extra={"unskipped_date": skip.date.isoformat()},
    )
    return sub


# ---------------------------------------------------------------- pause / activate / cancel


@transaction.atomic
def subscription_pause(
    *, subscription: Subscription, actor: Actor, resume_on: dt.date | None = None
) -> Subscription:
    """Pause an ACTIVE subscription, optionally until a future date (auto-resume)."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.ACTIVE, action="pause")
    if resume_on is not None:
        require_future_date(sub.shop, resume_on, field="resume_on")
    sub.status = Status.PAUSED
    sub.paused_at = timezone.now()
    sub.auto_resume_date = resume_on
    sub.save(update_fields=["status", "paused_at", "auto_resume_date", "updated_at"])
    until = f" until {fmt(resume_on)}" if resume_on else ""
    log_activity(shop=sub.shop, actor=actor, action="paused", subscription=sub, description=f"Paused{until}")
    emit_subscription_event(
        "subscription.paused",
        sub,
        actor=actor,
        previous={"status": Status.ACTIVE},
        extra={"auto_resume_date": resume_on.isoformat() if resume_on else ""},
    )
    return sub


@transaction.atomic
def subscription_activate(
    *, subscription: Subscription, actor: Actor, next_billing_date: dt.date | None = None
) -> Subscription:
    """Resume a PAUSED subscription. The next billing date is kept when still ahead, otherwise it
    rolls forward by whole intervals to the first date after today (no back-billing for the pause)."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.PAUSED, action="resume")
    today = sub.shop.local_today()
    previous = {"status": sub.status, "next_billing_date": sub.next_billing_date}
    if next_billing_date is not None:
        require_future_date(sub.shop, next_billing_date, field="next_billing_date")
        sub.next_billing_date = next_billing_date
        sub.anchor_day = next_billing_date.day
    else:
        date = sub.next_billing_date or today
        while date <= today:
            date = sub.date_after(date)
        sub.next_billing_date = date
    sub.status = Status.ACTIVE
    sub.paused_at = None
    sub.auto_resume_date = None
    sub.save(
        update_fields=[
            "status",
            "paused_at",
            "auto_resume_date",
            "next_billing_date",
            "anchor_day",
            "updated_at",
        ]
    )
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="activated",
        subscription=sub,
        description=f"Resumed; next order {fmt(sub.next_billing_date)}",
    )
    emit_subscription_event("subscription.activated", sub, actor=actor, previous=previous)
    return sub


@transaction.atomic
def subscription_cancel(*, subscription: Subscription, actor: Actor, reason: str = "") -> Subscription:
    """Cancel an ACTIVE or PAUSED subscription. When it was the customer's last live subscription
    the customer is deactivated too (`customer.deactivated`)."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="cancel")
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise DomainError(
            "reason_too_long", "The cancellation reason is limited to 500 characters.", field="reason"
        )
    previous = {"status": sub.status}
    sub.status = Status.CANCELLED
    sub.cancelled_at = timezone.now()
    sub.cancel_reason = reason
    sub.auto_resume_date = None
    sub.save(update_fields=["status", "cancelled_at", "cancel_reason", "auto_resume_date", "updated_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="canceled",
        subscription=sub,
        description=f"Cancelled{': ' + reason if reason else ''}",
        details={"reason": reason},
    )
    emit_subscription_event(
        "subscription.canceled", sub, actor=actor, previous=previous, extra={"cancel_reason": reason}
    )
    still_live = (
        Subscription.objects.filter(customer_id=sub.customer_id, status__in=LIVE).exclude(pk=sub.pk).exists()
    )
    if not still_live:
        log_activity(
            shop=sub.shop,
            actor=actor,
            action="customer_deactivated",
            customer=sub.customer,
            description="Customer has no active subscription left",
        )
        emit_customer_event(
            "customer.deactivated", sub.customer, actor=actor, extra={"last_subscription_id": sub.pk}
        )
    return sub


# ---------------------------------------------------------------- dates


@transaction.atomic
def subscription_set_next_billing_date(
    *, subscription: Subscription, actor: Actor, date: dt.date
) -> Subscription:
    """Move (or delay) the next order to a future date. Later renewals follow from the new date."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="change the next order date")
    require_future_date(sub.shop, date, field="date")
    if date == sub.next_billing_date:
        raise DomainError("unchanged", f"The next order is already on {date.isoformat()}.", field="date")
    previous = {"next_billing_date": sub.next_billing_date}
    sub.next_billing_date = date
    sub.anchor_day = date.day
    sub.save(update_fields=["next_billing_date", "anchor_day", "updated_at"])
    # Skips before the new date no longer mean anything.
    sub.skips.filter(unskipped_at__isnull=True, date__lt=date).update(unskipped_at=timezone.now())
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="next_order_date_changed",
        subscription=sub,
        description=f"Next order moved from {fmt(previous['next_billing_date'])} to {fmt(date)}",
    )
    emit_subscription_event("subscription.next_order_date_changed", sub, actor=actor, previous=previous)
    return sub


@transaction.atomic
def subscription_send_now(*, subscription: Subscription, actor: Actor) -> Subscription:
    """Bill the next order at the shop's next billing time instead of waiting for its date."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.ACTIVE, action="send the order now")
    run_date = sub.shop.next_billing_run_date()
    if sub.next_billing_date == run_date and run_date not in active_skip_dates(sub):
        raise DomainError("already_due", f"The next order is already billed on {run_date.isoformat()}.")
    previous = {"next_billing_date": sub.next_billing_date}
    # A skip of the date being pulled forward is void: the customer asked for it now.
    sub.skips.filter(unskipped_at__isnull=True, date__lte=run_date).update(unskipped_at=timezone.now())
    sub.next_billing_date = run_date
    # The cadence restarts from the order sent now: a monthly order sent on the 15th comes back on
    # the 15th, not a few days later on its old day.
    sub.anchor_day = run_date.day
    sub.save(update_fields=["next_billing_date", "anchor_day", "updated_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="send_now",
        subscription=sub,
        description=f"Order will be billed at the next billing run ({fmt(run_date)})",
    )
    emit_subscription_event("subscription.send_now", sub, actor=actor, previous=previous)
    return sub


# ---------------------------------------------------------------- gift


@transaction.atomic
def subscription_gift(
    *,
    subscription: Subscription,
    actor: Actor,
    recipient_first_name: str,
    line1: str,
    city: str,
    country: str,
    recipient_last_name: str = "",
    recipient_email: str = "",
    message: str = "",
    line2: str = "",
    province: str = "",
    postal_code: str = "",
) -> Gift:
    """Send the next order to someone else; billing ships that one order to the recipient."""
    sub = lock_subscription(subscription)
    require_status(sub, Status.ACTIVE, action="gift the next order")
    for field, value in (("recipient_first_name", recipient_first_name), ("line1", line1), ("city", city)):
        if not (value or "").strip():
            raise DomainError(
                "required", f"The recipient's {field.replace('_', ' ')} is required.", field=field
            )
    country = (country or "").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise DomainError("invalid_country", "Country must be a two-letter code such as US.", field="country")
    date = next_order_date(sub)
    if Gift.objects.filter(subscription=sub, billing_date=date).exists():
        raise DomainError("already_gifted", f"The order of {date.isoformat()} is already a gift.")
    gift = Gift.objects.create(
        shop=sub.shop,
        subscription=sub,
        billing_date=date,
        recipient_first_name=recipient_first_name.strip(),
        recipient_last_name=recipient_last_name.strip(),
        recipient_email=recipient_email.strip(),
        message=message.strip()[:500],
        line1=line1.strip(),
        line2=line2.strip(),
        city=city.strip(),
        province=province.strip(),
        postal_code=postal_code.strip(),
        country=country,
    )
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="gifted",
        subscription=sub,
        description=f"Order of {fmt(date)} gifted to {gift.recipient_first_name} {gift.recipient_last_name}".strip(),
    )
    emit_subscription_event(
        "subscription.gifted",
        sub,
        actor=actor,
        extra={
            "gift": {
                "billing_date": date.isoformat(),
                "recipient_first_name": gift.recipient_first_name,
                "recipient_last_name": gift.recipient_last_name,
                "recipient_email": gift.recipient_email,
                "message": gift.message,
            }
        },
    )
    return gift


# ---------------------------------------------------------------- lines, plan, address, payment


def _get_line(sub: Subscription, line: SubscriptionLine | int) -> SubscriptionLine:
    line_id = line.pk if isinstance(line, SubscriptionLine) else line
    found = sub.lines.select_related("variant__product").filter(pk=line_id).first()
    if found is None:
        raise DomainError("not_found", "That line is not part of this subscription.", field="line")
    return found


@transaction.atomic
def subscription_swap_variant(
    *, subscription: Subscription, actor: Actor, line: SubscriptionLine | int, variant: Variant
) -> Subscription:
    """Replace a line's product variant with another of the same shop, priced by the plan."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="swap a product")
    current = _get_line(sub, line)
    _check_variant(sub, variant, field="variant")
    if variant.pk == current.variant_id:
        raise DomainError("unchanged", "That line already has this product.", field="variant")
    if sub.lines.filter(variant=variant).exists():
        raise DomainError("duplicate_line", f"{variant} is already in this subscription.", field="variant")
    old = current.variant
    current.variant = variant
    current.unit_price = sub.plan.unit_price(variant.price)
    current.save(update_fields=["variant", "unit_price"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="variant_swapped",
        subscription=sub,
        description=f"Swapped {old.sku} for {variant.sku}",
        details={"from": old.sku, "to": variant.sku},
    )
    return sub


@transaction.atomic
def subscription_change_quantity(
    *, subscription: Subscription, actor: Actor, line: SubscriptionLine | int, quantity: int
) -> Subscription:
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="change a quantity")
    current = _get_line(sub, line)
    _check_quantity(quantity)
    if quantity == current.quantity:
        raise DomainError("unchanged", f"The quantity is already {quantity}.", field="quantity")
    old = current.quantity
    current.quantity = quantity
    current.save(update_fields=["quantity"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="quantity_changed",
        subscription=sub,
        description=f"{current.variant.sku}: quantity {old} → {quantity}",
    )
    return sub


@transaction.atomic
def subscription_add_line(
    *, subscription: Subscription, actor: Actor, variant: Variant, quantity: int = 1
) -> SubscriptionLine:
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="add a product")
    _check_variant(sub, variant, field="variant")
    _check_quantity(quantity)
    if sub.lines.filter(variant=variant).exists():
        raise DomainError(
            "duplicate_line",
            f"{variant} is already in this subscription; change its quantity instead.",
            field="variant",
        )
    line = SubscriptionLine.objects.create(
        shop=sub.shop,
        subscription=sub,
        variant=variant,
        quantity=quantity,
        unit_price=sub.plan.unit_price(variant.price),
    )
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="line_added",
        subscription=sub,
        description=f"Added {quantity} × {variant.sku}",
    )
    return line


@transaction.atomic
def subscription_remove_line(
    *, subscription: Subscription, actor: Actor, line: SubscriptionLine | int
) -> Subscription:
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="remove a product")
    current = _get_line(sub, line)
    if sub.lines.count() == 1:
        raise DomainError(
            "last_line", "A subscription needs at least one product; cancel it instead.", field="line"
        )
    sku = current.variant.sku
    current.delete()
    log_activity(
        shop=sub.shop, actor=actor, action="line_removed", subscription=sub, description=f"Removed {sku}"
    )
    return sub


@transaction.atomic
def subscription_change_plan(*, subscription: Subscription, actor: Actor, plan: Plan) -> Subscription:
    """Change frequency (the selling plan). Line prices follow the new plan's discount; the next
    order date stays where it is."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="change the frequency")
    require_same_shop(sub, plan, field="plan", label="plan")
    if not plan.active or not plan.program.active:
        raise DomainError("plan_inactive", f"The plan {plan} is not offered any more.", field="plan")
    if plan.pk == sub.plan_id:
        raise DomainError("unchanged", f"The subscription is already on {plan}.", field="plan")
    previous = {
        "plan": sub.plan.name,
        "frequency_unit": sub.plan.interval_unit,
        "frequency_interval": sub.plan.interval_count,
    }
    sub.plan = plan
    sub.save(update_fields=["plan", "updated_at"])
    for line in sub.lines.select_related("variant"):
        line.unit_price = plan.unit_price(line.variant.price)
        line.save(update_fields=["unit_price"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="frequency_changed",
        subscription=sub,
        description=f"Plan changed from {previous['plan']} to {plan.name} ({plan.frequency_label})",
        details=previous,
    )
    return sub


@transaction.atomic
def subscription_update_shipping_address(
    *, subscription: Subscription, actor: Actor, **fields
) -> Subscription:
    """Ship future orders to a new address (saved to the customer's address book)."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="change the shipping address")
    clean = clean_address(fields)
    address = Address.objects.create(shop=sub.shop, customer=sub.customer, **clean)
    previous = {"shipping_address": sub.shipping_address.as_dict() if sub.shipping_address else None}
    sub.shipping_address = address
    sub.save(update_fields=["shipping_address", "updated_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="address_changed",
        subscription=sub,
        description=f"Shipping address changed to {address}",
        details=previous,
    )
    return sub


@transaction.atomic
def subscription_update_payment_method(
    *, subscription: Subscription, actor: Actor, payment_method: PaymentMethod
) -> Subscription:
    """Charge future orders to another of the customer's payment methods."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="change the payment method")
    if payment_method is None or payment_method.customer_id != sub.customer_id:
        raise DomainError(
            "not_found", "That payment method does not belong to this customer.", field="payment_method"
        )
    if payment_method.pk == sub.payment_method_id:
        raise DomainError(
            "unchanged", "The subscription already uses this payment method.", field="payment_method"
        )
    previous = {"payment_method": str(sub.payment_method) if sub.payment_method_id else None}
    sub.payment_method = payment_method
    sub.save(update_fields=["payment_method", "updated_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="payment_method_updated",
        subscription=sub,
        description=f"Payment method changed to {payment_method}",
    )
    emit_subscription_event(
        "subscription.payment_method_updated",
        sub,
        actor=actor,
        previous=previous,
        extra={
            "payment_method": {
                "brand": payment_method.brand,
                "last4": payment_method.last4,
                "exp_month": payment_method.exp_month,
                "exp_year": payment_method.exp_year,
            }
        },
    )
    if sub.orders.filter(status="failed").exists():
        # Dunning: a new card is the best moment to try the failed payment again.
        transaction.on_commit(lambda: _retry_failed_orders(sub.pk))
    return sub


def _retry_failed_orders(subscription_id: int) -> None:
    from subscriptions.tasks import retry_failed_orders_task

    retry_failed_orders_task.delay(subscription_id)


# ---------------------------------------------------------------- discounts


@transaction.atomic
def subscription_apply_discount(
    *, subscription: Subscription, actor: Actor, code: str
) -> SubscriptionDiscount:
    """Apply a discount code to future renewals, within its scope, dates and usage limit."""
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="apply a discount code")
    normalized = (code or "").strip().upper()
    if not normalized:
        raise DomainError("required", "Enter a discount code.", field="code")
    discount = DiscountCode.objects.select_for_update().filter(shop=sub.shop, code=normalized).first()
    if discount is None or not discount.active:
        raise DomainError("invalid_code", f"The code {normalized} does not exist.", field="code")
    now = timezone.now()
    if (discount.starts_at and now < discount.starts_at) or (discount.ends_at and now >= discount.ends_at):
        raise DomainError("code_expired", f"The code {normalized} is not valid at this time.", field="code")
    if discount.applies_to == DiscountCode.AppliesTo.ONE_TIME:
        raise DomainError(
            "code_not_for_subscriptions",
            f"The code {normalized} is for one-time purchases only.",
            field="code",
        )
    if discount.usage_limit is not None and discount.times_used >= discount.usage_limit:
        raise DomainError("code_used_up", f"The code {normalized} has been used up.", field="code")
    if sub.discounts.filter(code=discount, removed_at__isnull=True).exists():
        raise DomainError("already_applied", f"The code {normalized} is already applied.", field="code")
    remaining = {
        DiscountCode.Duration.FIRST_PAYMENT: 1,
        DiscountCode.Duration.RECURRING: discount.recurring_count,
        DiscountCode.Duration.ALL: None,
    }[discount.duration]
    try:
        with transaction.atomic():
            applied = SubscriptionDiscount.objects.create(
                shop=sub.shop, subscription=sub, code=discount, payments_remaining=remaining
            )
    except IntegrityError as exc:  # a concurrent apply of the same code won the race
        raise DomainError(
            "already_applied", f"The code {normalized} is already applied.", field="code"
        ) from exc
    discount.times_used += 1
    discount.save(update_fields=["times_used"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="discount_applied",
        subscription=sub,
        description=f"Discount code {normalized} applied",
    )
    return applied


@transaction.atomic
def subscription_remove_discount(*, subscription: Subscription, actor: Actor, code: str) -> Subscription:
    sub = lock_subscription(subscription)
    require_status(sub, *LIVE, action="remove a discount code")
    normalized = (code or "").strip().upper()
    applied = sub.discounts.filter(code__code=normalized, removed_at__isnull=True).first()
    if applied is None:
        raise DomainError(
            "not_applied", f"The code {normalized} is not applied to this subscription.", field="code"
        )
    applied.removed_at = timezone.now()
    applied.save(update_fields=["removed_at"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="discount_removed",
        subscription=sub,
        description=f"Discount code {normalized} removed",
    )
    return sub


def line_total(lines: Iterable[SubscriptionLine]) -> Decimal:
    return sum((line.total for line in lines), Decimal("0.00"))
