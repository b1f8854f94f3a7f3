"""Discount codes: the merchant's catalogue of codes (applying one to a subscription is a
lifecycle action, see `lifecycle.subscription_apply_discount`)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import DiscountCode, Shop

UPDATABLE_FIELDS = ("active", "starts_at", "ends_at", "usage_limit")


def _normalize_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise DomainError("required", "Enter a discount code.", field="code")
    if len(code) > 64:
        raise DomainError("code_too_long", "A discount code has at most 64 characters.", field="code")
    if any(ch.isspace() for ch in code):
        raise DomainError("invalid_code", "A discount code cannot contain spaces.", field="code")
    return code


def _check_value(kind: str, value) -> Decimal:
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise DomainError("invalid_value", "The value must be a number.", field="value") from exc
    if value <= 0:
        raise DomainError("invalid_value", "The value must be more than 0.", field="value")
    if kind == DiscountCode.Kind.PERCENTAGE and value > 100:
        raise DomainError("invalid_value", "A percentage discount cannot exceed 100.", field="value")
    return value.quantize(Decimal("0.01"))


def _check_window(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise DomainError("invalid_dates", "The end must come after the start.", field="ends_at")


def _check_usage_limit(usage_limit: int | None, times_used: int) -> None:
    if usage_limit is not None and usage_limit < max(times_used, 1):
        raise DomainError(
            "usage_limit_too_low",
            f"The usage limit must be at least {max(times_used, 1)} (the code was used {times_used} times).",
            field="usage_limit",
        )


def discount_code_validate(
    *,
    shop: Shop,
    code: str,
    value: Decimal,
    kind: str = DiscountCode.Kind.PERCENTAGE,
    applies_to: str = DiscountCode.AppliesTo.BOTH,
    duration: str = DiscountCode.Duration.ALL,
    recurring_count: int | None = None,
    active: bool = True,
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    usage_limit: int | None = None,
) -> dict:
    """The checks of `discount_code_create` without writing anything (console forms and the CSV
    preview use it): the cleaned fields, or a DomainError naming the field at fault."""
    code = _normalize_code(code)
    if kind not in DiscountCode.Kind.values:
        raise DomainError("invalid_kind", f"Unknown discount kind '{kind}'.", field="kind")
    if applies_to not in DiscountCode.AppliesTo.values:
        raise DomainError("invalid_applies_to", f"Unknown scope '{applies_to}'.", field="applies_to")
    if duration not in DiscountCode.Duration.values:
        raise DomainError("invalid_duration", f"Unknown duration '{duration}'.", field="duration")
    value = _check_value(kind, value)
    if duration == DiscountCode.Duration.RECURRING:
        if not recurring_count or recurring_count < 1:
            raise DomainError(
                "recurring_count_required",
                "Say for how many recurring payments the code lasts.",
                field="recurring_count",
            )
    else:
        recurring_count = None
    _check_window(starts_at, ends_at)
    _check_usage_limit(usage_limit, 0)
    if DiscountCode.objects.filter(shop=shop, code=code).exists():
        raise DomainError("code_taken", f"The code {code} already exists.", field="code")
    return {
        "code": code,
        "kind": kind,
        "value": value,
        "applies_to": applies_to,
        "duration": duration,
        "recurring_count": recurring_count,
        "active": active,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "usage_limit": usage_limit,
    }


@transaction.atomic
def discount_code_create(*, shop: Shop, actor: Actor, **fields) -> DiscountCode:
    """A new code, unique in the shop whatever its case. A percentage is at most 100; a code that
    lasts "a number of recurring payments" says how many (see `discount_code_validate`)."""
    clean = discount_code_validate(shop=shop, **fields)
    code = clean["code"]
    try:
        with transaction.atomic():
            return DiscountCode.objects.create(shop=shop, **clean)
    except IntegrityError as exc:  # a concurrent create of the same code won the race
        raise DomainError("code_taken", f"The code {code} already exists.", field="code") from exc


@transaction.atomic
def discount_code_update(*, discount_code: DiscountCode, actor: Actor, **fields) -> DiscountCode:
    """Switch a code on or off, move its validity window, change its usage limit. What a code gives
    (kind, value, duration) never changes once created: subscriptions already carry it."""
    unknown = set(fields) - set(UPDATABLE_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError("unknown_field", f"The field '{name}' cannot be changed.", field=name)
    discount_code = DiscountCode.objects.select_for_update().get(pk=discount_code.pk)
    for name, value in fields.items():
        setattr(discount_code, name, value)
    _check_window(discount_code.starts_at, discount_code.ends_at)
    if "usage_limit" in fields:
        _check_usage_limit(discount_code.usage_limit, discount_code.times_used)
    if fields:
        discount_code.save(update_fields=list(fields))
    return discount_code
