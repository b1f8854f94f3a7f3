"""Every write to loyalty: earning, bonuses, adjustments, expiry, redemptions and referrals.

Each points movement is one `LedgerEntry` plus the new `CustomerBalance`, written in one
transaction while the balance row is locked, so concurrent movements apply one after another and
the balance always equals the sum of the ledger. An entry that answers an event carries its id
(`source_event_id`): the same event replayed finds its entry and earns nothing twice.
"""

import datetime as dt
import secrets
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from loyalty.models import (
    CustomerBalance,
    LedgerEntry,
    LoyaltyProgram,
    Redemption,
    Referral,
    ReferralCode,
    Reward,
)
from subscriptions.actors import SYSTEM, Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_customer_event
from subscriptions.models import Customer, DiscountCode, Order, Subscription
from subscriptions.services import discounts, lifecycle

Kind = LedgerEntry.Kind
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed


# ---------------------------------------------------------------- the ledger


def _lock_balance(customer: Customer) -> CustomerBalance:
    CustomerBalance.objects.get_or_create(customer=customer, defaults={"shop_id": customer.shop_id})
    return CustomerBalance.objects.select_for_update().get(customer=customer)


def _append(
    *,
    customer: Customer,
    kind: str,
    points: int,
    reason: str,
    staff_user=None,
    source_event_id: str | None = None,
) -> LedgerEntry | None:
    """Move `points` (signed) and record it; None when `source_event_id` was already answered."""
    balance = _lock_balance(customer)
    if (
        source_event_id is not None
        and LedgerEntry.objects.filter(customer=customer, kind=kind, source_event_id=source_event_id).exists()
    ):
        return None
    if points < 0:
        # A conditional UPDATE: never below zero, whatever another transaction did meanwhile.
        moved = CustomerBalance.objects.filter(pk=balance.pk, points__gte=-points).update(
            points=F("points") + points, updated_at=timezone.now()
        )
        if not moved:
            raise DomainError(
                "insufficient_points",
                f"Not enough points: {balance.points} available, {-points} needed.",
                field="points",
            )
    else:
        CustomerBalance.objects.filter(pk=balance.pk).update(
            points=F("points") + points, updated_at=timezone.now()
        )
    balance.refresh_from_db(fields=["points"])
    try:
        with transaction.atomic():
            return LedgerEntry.objects.create(
                shop_id=customer.shop_id,
                customer=customer,
                kind=kind,
                points=points,
                balance_after=balance.points,
                reason=reason[:255],
                staff_user=staff_user,
                source_event_id=source_event_id,
            )
    except IntegrityError:
        if source_event_id is None:
            raise
        # The same event answered by a concurrent transaction: undo our move, earn nothing.
        CustomerBalance.objects.filter(pk=balance.pk).update(points=F("points") - points)
        return None


def _positive(points: int) -> int:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise DomainError("invalid_points", "Points must be a whole number above 0.", field="points")
    return points


def _emit(type_: str, customer: Customer, entry: LedgerEntry, actor: Actor, **extra) -> None:
    emit_customer_event(
        type_,
        customer,
        actor=actor,
        extra={"points": abs(entry.points), "balance": entry.balance_after, "reason": entry.reason, **extra},
    )


def _credit(kind, event_type: str, *, customer, points, reason, actor, source_event_id) -> LedgerEntry | None:
    entry = _append(
        customer=customer,
        kind=kind,
        points=_positive(points),
        reason=reason,
        source_event_id=source_event_id,
    )
    if entry is not None:
        _emit(event_type, customer, entry, actor)
    return entry


@transaction.atomic
def points_earn(
    *,
    customer: Customer,
    points: int,
    reason: str,
    actor: Actor = SYSTEM,
    source_event_id: str | None = None,
) -> LedgerEntry | None:
    """Credit points earned by a rule (an order, a subscription). Emits `loyalty.points_earned`."""
    return _credit(
        Kind.EARN,
        "loyalty.points_earned",
        customer=customer,
        points=points,
        reason=reason,
        actor=actor,
        source_event_id=source_event_id,
    )


@transaction.atomic
def points_bonus(
    *,
    customer: Customer,
    points: int,
    reason: str,
    actor: Actor = SYSTEM,
    source_event_id: str | None = None,
) -> LedgerEntry | None:
    """Credit a bonus rule's payout. Emits `loyalty.bonus_points_earned`."""
    return _credit(
        Kind.BONUS,
        "loyalty.bonus_points_earned",
        customer=customer,
        points=points,
        reason=reason,
        actor=actor,
        source_event_id=source_event_id,
    )


# Ledger columns are 32-bit integers: bounded adjustments keep every balance far below the limit.
MAX_ADJUSTMENT = 1_000_000
MAX_BALANCE = 1_000_000_000


@transaction.atomic
def points_adjust(*, customer: Customer, points: int, staff, reason: str) -> LedgerEntry:
    """A staff correction, up or down, with the reason on record. Never below zero."""
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise DomainError("invalid_points", "Enter a whole number of points other than 0.", field="points")
    if abs(points) > MAX_ADJUSTMENT:
        raise DomainError(
            "invalid_points", f"Adjust by at most {MAX_ADJUSTMENT:,} points at a time.", field="points"
        )
    if points > 0 and _lock_balance(customer).points + points > MAX_BALANCE:
        raise DomainError(
            "invalid_points", f"A balance cannot exceed {MAX_BALANCE:,} points.", field="points"
        )
    if not (reason or "").strip():
        raise DomainError("required", "Say why the points are adjusted.", field="reason")
    return _append(
        customer=customer, kind=Kind.ADJUST, points=points, reason=reason.strip(), staff_user=staff
    )


def _expirable_points(customer: Customer, cutoff: dt.datetime) -> int:
    """Points earned before `cutoff` that nothing spent yet: spending uses the oldest points first,
    so that is everything credited before the cutoff minus everything ever debited."""
    entries = LedgerEntry.objects.filter(customer=customer)
    credited = (
        entries.filter(points__gt=0, created_at__lt=cutoff).aggregate(total=Sum("points"))["total"] or 0
    )
    debited = -(entries.filter(points__lt=0).aggregate(total=Sum("points"))["total"] or 0)
    return max(0, credited - debited)


@transaction.atomic
def points_expire(*, customer: Customer, now: dt.datetime | None = None) -> LedgerEntry | None:
    """Expire the points older than the program's `expiry_days` that were not spent. Running it
    again expires nothing more (an expiry is a debit like any other)."""
    program = LoyaltyProgram.objects.filter(shop_id=customer.shop_id).first()
    if program is None or not program.expiry_days:
        return None
    now = now or timezone.now()
    balance = _lock_balance(customer)
    points = min(_expirable_points(customer, now - dt.timedelta(days=program.expiry_days)), balance.points)
    if points <= 0:
        return None
    return _append(
        customer=customer,
        kind=Kind.EXPIRE,
        points=-points,
        reason=f"Points older than {program.expiry_days} days expired",
    )


# ---------------------------------------------------------------- rewards


def _unique_code(shop_id: int, prefix: str) -> str:
    while True:
        code = prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if not DiscountCode.objects.filter(shop_id=shop_id, code=code).exists():
            return code


@transaction.atomic
def reward_redeem(
    *, customer: Customer, reward: Reward, subscription: Subscription, actor: Actor = SYSTEM
) -> Redemption:
    """Turn points into a reward on one of the customer's subscriptions: a single-use code for the
    next payment (a free product is added as a line and discounted by its price). Refused, with
    nothing changed, when the balance is too low."""
    if reward.shop_id != customer.shop_id or not reward.active:
        raise DomainError("not_found", "That reward is not offered.", field="reward")
    if subscription.customer_id != customer.pk:
        raise DomainError("not_found", "That subscription is not the customer's.", field="subscription")
    entry = _append(
        customer=customer, kind=Kind.REDEEM, points=-reward.points_cost, reason=f"Redeemed: {reward.name}"
    )
    if reward.kind == Reward.Kind.FREE_PRODUCT:
        kind, value = DiscountCode.Kind.FIXED, reward.variant.price
    elif reward.kind == Reward.Kind.PERCENTAGE:
        kind, value = DiscountCode.Kind.PERCENTAGE, reward.value
    else:
        kind, value = DiscountCode.Kind.FIXED, reward.value
    code = discounts.discount_code_create(
        shop=customer.shop,
        actor=actor,
        code=_unique_code(customer.shop_id, "PTS-"),
        kind=kind,
        value=value,
        applies_to=DiscountCode.AppliesTo.SUBSCRIPTION,
        duration=DiscountCode.Duration.FIRST_PAYMENT,
        usage_limit=1,
    )
    if reward.kind == Reward.Kind.FREE_PRODUCT:
        lifecycle.subscription_add_line(subscription=subscription, actor=actor, variant=reward.variant)
    lifecycle.subscription_apply_discount(subscription=subscription, actor=actor, code=code.code)
    redemption = Redemption.objects.create(
        shop_id=customer.shop_id,
        customer=customer,
        reward=reward,
        points=reward.points_cost,
        discount_code=code,
        subscription=subscription,
        ledger_entry=entry,
    )
    _emit(
        "loyalty.points_redeemed",
        customer,
        entry,
        actor,
        reward={"id": reward.pk, "name": reward.name, "kind": reward.kind},
        discount_code=code.code,
        subscription_id=subscription.pk,
    )
    return redemption


# ---------------------------------------------------------------- referrals


@transaction.atomic
def referral_code_generate(*, customer: Customer, actor: Actor = SYSTEM) -> ReferralCode:
    """The customer's referral code: one per customer, made on first request."""
    existing = ReferralCode.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    stem = "".join(ch for ch in (customer.first_name or "FRIEND").upper() if ch.isalnum())[:10] or "FRIEND"
    while True:
        code = f"{stem}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))
        if not ReferralCode.objects.filter(shop_id=customer.shop_id, code=code).exists():
            break
    referral_code = ReferralCode.objects.create(shop_id=customer.shop_id, customer=customer, code=code)
    emit_customer_event(
        "loyalty.referral_code_generated", customer, actor=actor, extra={"referral_code": code}
    )
    return referral_code


def _card_fingerprints(customer: Customer) -> set[tuple]:
    return {
        (pm.brand.upper(), pm.last4, pm.exp_month, pm.exp_year)
        for pm in customer.payment_methods.all()
        if pm.last4
    }


def _address_fingerprints(customer: Customer) -> set[tuple]:
    return {
        (" ".join(a.line1.upper().split()), a.postal_code.replace(" ", "").upper())
        for a in customer.addresses.all()
        if a.line1
    }


def _check_not_same_person(referrer: Customer, referee: Customer) -> None:
    """Refuse a referral that looks like the referrer referring themselves."""
    if referrer.pk == referee.pk or referrer.email.strip().lower() == referee.email.strip().lower():
        raise DomainError("self_referral", "You cannot use your own referral code.", field="code")
    if _card_fingerprints(referrer) & _card_fingerprints(referee):
        raise DomainError(
            "referral_same_payment_method",
            "This referral code cannot be used: the same card is on the referrer's account.",
            field="code",
        )
    if _address_fingerprints(referrer) & _address_fingerprints(referee):
        raise DomainError(
            "referral_same_address",
            "This referral code cannot be used: the shipping address is the referrer's.",
            field="code",
        )


@transaction.atomic
def referral_apply(*, code: str, customer: Customer, actor: Actor = SYSTEM) -> Referral:
    """A new customer signs up with someone's code. Refused for self-referral (same customer,
    email, card or shipping address) and for anyone referred before (same customer or email). The
    shop's referee discount goes on the customer's first subscription; the referrer earns points
    when that subscription's first renewal is paid."""
    normalized = (code or "").strip().upper()
    referral_code = (
        ReferralCode.objects.select_related("customer")
        .filter(shop_id=customer.shop_id, code=normalized)
        .first()
    )
    if referral_code is None:
        raise DomainError("invalid_code", f"The referral code {normalized} does not exist.", field="code")
    referrer = referral_code.customer
    _check_not_same_person(referrer, customer)
    email = customer.email.strip().lower()
    if Referral.objects.filter(
        Q(referee=customer) | Q(shop_id=customer.shop_id, referee_email=email)
    ).exists():
        raise DomainError(
            "already_referred", "This customer has already been referred by someone.", field="code"
        )
    if customer.orders.filter(status=Order.Status.PAID).exists():
        raise DomainError("not_a_new_customer", "Referral codes are for new customers only.", field="code")
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                shop_id=customer.shop_id,
                referrer=referrer,
                referee=customer,
                referee_email=email,
                code=referral_code,
            )
    except IntegrityError as exc:  # a concurrent apply for the same customer won
        raise DomainError(
            "already_referred", "This customer has already been referred by someone.", field="code"
        ) from exc
    program = LoyaltyProgram.objects.filter(shop_id=customer.shop_id).first()
    first = (
        customer.subscriptions.exclude(status=Subscription.Status.CANCELLED).order_by("created_at").first()
    )
    if program is not None and program.referee_discount_id and first is not None:
        lifecycle.subscription_apply_discount(
            subscription=first, actor=actor, code=program.referee_discount.code
        )
    return referral


@transaction.atomic
def referral_succeed(*, referral: Referral, source_event_id: str) -> LedgerEntry | None:
    """The referee's first renewal was paid: the referrer earns the program's points."""
    referral = Referral.objects.select_for_update().select_related("referrer").get(pk=referral.pk)
    if referral.status != Referral.Status.PENDING:
        return None
    referral.status = Referral.Status.SUCCEEDED
    referral.succeeded_at = timezone.now()
    referral.save(update_fields=["status", "succeeded_at"])
    program = LoyaltyProgram.objects.filter(shop_id=referral.shop_id).first()
    points = program.referrer_points if program is not None else 0
    entry = None
    if points > 0:
        entry = _append(
            customer=referral.referrer,
            kind=Kind.EARN,
            points=points,
            reason=f"Referral of {referral.referee_email}",
            source_event_id=f"referral:{referral.pk}",
        )
    balance = (
        CustomerBalance.objects.filter(customer=referral.referrer).values_list("points", flat=True).first()
    )
    emit_customer_event(
        "loyalty.referral_succeeded",
        referral.referrer,
        actor=SYSTEM,
        extra={
            "points": points,
            "balance": balance or 0,
            "reason": f"Referral of {referral.referee_email}",
            "referee_email": referral.referee_email,
        },
    )
    return entry


# ---------------------------------------------------------------- earning rules (event handler)


def order_points(program: LoyaltyProgram, total: Decimal, *, at: dt.datetime | None = None) -> int:
    """Points for an order: per whole currency unit, rounded down, times the campaign multiplier."""
    points = (Decimal(total) * program.points_per_currency_unit).to_integral_value(rounding=ROUND_DOWN)
    if program.campaign_active(at):
        points = (points * program.campaign_multiplier).to_integral_value(rounding=ROUND_DOWN)
    return int(points)


def _years_between(start: dt.date, end: dt.date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return max(0, years)


@transaction.atomic
def event_handle(*, event_id: str, type: str, data: dict) -> None:
    """Apply the earning rules to one subscription event. Safe to call again with the same event."""
    customer_id = (data.get("customer") or {}).get("id")
    customer = Customer.objects.select_related("shop").filter(pk=customer_id).first()
    if customer is None:
        return
    program = LoyaltyProgram.objects.filter(shop_id=customer.shop_id, enabled=True).first()
    if program is None:
        return
    if type == "subscription.created":
        _on_subscription_created(program, customer, event_id, data)
    elif type == "subscription.transaction_succeeded":
        _on_transaction_succeeded(program, customer, event_id, data)


def _on_subscription_created(program: LoyaltyProgram, customer: Customer, event_id: str, data: dict) -> None:
    if program.points_on_subscription_created:
        points_earn(
            customer=customer,
            points=program.points_on_subscription_created,
            reason="Subscription created",
            source_event_id=f"{event_id}:subscription",
        )
    # There is no customer-created event: a customer's first subscription stands for the account.
    subscription_id = (data.get("subscription") or {}).get("id")
    first = customer.subscriptions.order_by("created_at", "id").values_list("pk", flat=True).first()
    if program.points_on_account_created and first == subscription_id:
        points_bonus(
            customer=customer,
            points=program.points_on_account_created,
            reason="Welcome: account created",
            source_event_id=f"account:{customer.pk}",
        )
    # A referee who signed up before subscribing gets the referee discount on this first one.
    referral = Referral.objects.filter(referee=customer, status=Referral.Status.PENDING).first()
    if referral is not None and program.referee_discount_id and first == subscription_id:
        subscription = Subscription.objects.get(pk=subscription_id)
        if not subscription.discounts.filter(code_id=program.referee_discount_id).exists():
            lifecycle.subscription_apply_discount(
                subscription=subscription, actor=SYSTEM, code=program.referee_discount.code
            )


def _on_transaction_succeeded(program: LoyaltyProgram, customer: Customer, event_id: str, data: dict) -> None:
    order = data.get("order") or {}
    subscription = data.get("subscription") or {}
    now = timezone.now()
    points = order_points(program, Decimal(str(order.get("total") or "0")), at=now)
    if points > 0:
        points_earn(
            customer=customer,
            points=points,
            reason=f"Order #{order.get('id')}",
            source_event_id=f"{event_id}:order",
        )
    order_count = int(subscription.get("order_count") or 0)
    if program.every_nth_order and program.nth_order_bonus and order_count:
        if order_count % program.every_nth_order == 0:
            points_bonus(
                customer=customer,
                points=program.nth_order_bonus,
                reason=f"Order number {order_count}",
                source_event_id=f"{event_id}:nth",
            )
    if program.campaign_bonus and program.campaign_active(now):
        points_bonus(
            customer=customer,
            points=program.campaign_bonus,
            reason="Campaign bonus",
            source_event_id=f"{event_id}:campaign",
        )
    if program.anniversary_bonus and subscription.get("id"):
        started = (
            Subscription.objects.filter(pk=subscription["id"]).values_list("created_at", flat=True).first()
        )
        if started is not None:
            tz = customer.shop.tz
            years = _years_between(started.astimezone(tz).date(), now.astimezone(tz).date())
            if years >= 1:
                # Once per subscription and year, whichever order comes first after the date.
                points_bonus(
                    customer=customer,
                    points=program.anniversary_bonus,
                    reason=f"{years}-year anniversary",
                    source_event_id=f"anniversary:{subscription['id']}:{years}",
                )
    referral = Referral.objects.filter(referee=customer, status=Referral.Status.PENDING).first()
    if referral is not None:
        referral_succeed(referral=referral, source_event_id=event_id)
