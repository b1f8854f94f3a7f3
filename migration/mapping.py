"""How a Recharge (2021-11) record maps onto ours, or why it cannot: pure reads, no writes.

Each `*_fields` function answers the fields of our row, or raises `Unmappable` with a reason a
merchant can act on (fix the record in Recharge, or add the missing plan or product here, then
run again).
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from subscriptions.models import IntervalUnit, Plan, Shop, Subscription, Variant

# Recharge's interval units (2021-11 accepts singular and plural spellings).
UNITS = {
    "day": IntervalUnit.DAY,
    "days": IntervalUnit.DAY,
    "week": IntervalUnit.WEEK,
    "weeks": IntervalUnit.WEEK,
    "month": IntervalUnit.MONTH,
    "months": IntervalUnit.MONTH,
}
STATUSES = {
    "active": Subscription.Status.ACTIVE,
    "cancelled": Subscription.Status.CANCELLED,
    "expired": Subscription.Status.CANCELLED,
}


class Unmappable(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def external_id(record: dict) -> str:
    return str(record.get("id") or "")


def _text(record: dict, name: str, limit: int) -> str:
    return str(record.get(name) or "").strip()[:limit]


def _ecommerce_id(value) -> str:
    """Recharge 2021-11 wraps platform ids: {"ecommerce": "...", ...}."""
    if isinstance(value, dict):
        value = value.get("ecommerce")
    return str(value or "").strip()[:64]


def parse_timestamp(value) -> dt.datetime | None:
    """Recharge timestamps are ISO 8601, with or without an offset (without: UTC)."""
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        day = parse_date(str(value))
        parsed = dt.datetime.combine(day, dt.time.min) if day else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def customer_fields(record: dict) -> dict:
    email = _text(record, "email", 254).lower()
    if not email:
        raise Unmappable("no email address")
    try:
        validate_email(email)
    except ValidationError as exc:
        raise Unmappable(f"'{email}' is not a valid email address") from exc
    return {
        "email": email,
        "first_name": _text(record, "first_name", 100),
        "last_name": _text(record, "last_name", 100),
        "phone": _text(record, "phone", 32),
        "external_id": _ecommerce_id(record.get("external_customer_id")),
    }


def address_fields(record: dict) -> dict:
    missing = [name for name in ("address1", "city", "country_code") if not _text(record, name, 200)]
    if missing:
        raise Unmappable("missing " + ", ".join(missing))
    country = _text(record, "country_code", 2).upper()
    if len(str(record.get("country_code")).strip()) != 2 or not country.isalpha():
        raise Unmappable(f"'{record.get('country_code')}' is not a two-letter country code")
    return {
        "first_name": _text(record, "first_name", 100),
        "last_name": _text(record, "last_name", 100),
        "line1": _text(record, "address1", 200),
        "line2": _text(record, "address2", 200),
        "city": _text(record, "city", 100),
        "province": _text(record, "province", 100),
        "postal_code": _text(record, "zip", 20),
        "country": country,
        "phone": _text(record, "phone", 32),
    }


def payment_method_fields(record: dict) -> dict:
    """Only Stripe methods move over: our secondary gateway charges the same Stripe customer
    (`cus_...`) and payment method (`pm_...`/`card_...`) Recharge charged."""
    processor = _text(record, "processor_name", 32).lower()
    if processor != "stripe":
        raise Unmappable(f"processor '{processor or 'unknown'}' is not supported (only Stripe)")
    customer_token = _text(record, "processor_customer_token", 120)
    method_token = _text(record, "processor_payment_method_token", 120)
    if not customer_token.startswith("cus_"):
        raise Unmappable("no Stripe customer id (processor_customer_token cus_...)")
    if not method_token:
        raise Unmappable("no Stripe payment method id (processor_payment_method_token)")
    details = record.get("payment_details") or {}
    last4 = str(details.get("last4") or "")
    exp_month = details.get("exp_month")
    exp_year = details.get("exp_year")
    return {
        "gateway": "stripe",
        "token": f"{customer_token}:{method_token}",
        "brand": str(details.get("brand") or "")[:32],
        "last4": last4 if len(last4) == 4 and last4.isdigit() else "",
        "exp_month": int(exp_month) if str(exp_month or "").isdigit() and 1 <= int(exp_month) <= 12 else None,
        "exp_year": int(exp_year) if str(exp_year or "").isdigit() else None,
        "stripe_customer_id": customer_token,
    }


def find_variant(shop: Shop, record: dict) -> Variant:
    variant_id = _ecommerce_id(record.get("external_variant_id"))
    sku = _text(record, "sku", 64)
    variants = Variant.objects.filter(shop=shop).select_related("product")
    variant = variants.filter(external_id=variant_id).first() if variant_id else None
    if variant is None and sku:
        variant = variants.filter(sku=sku).first()
    if variant is None:
        title = _text(record, "product_title", 100) or "product"
        raise Unmappable(
            f"no product variant here with id {variant_id or '-'} or SKU {sku or '-'} ({title}); "
            "add it to the catalogue"
        )
    return variant


def find_plan(shop: Shop, variant: Variant, unit: str, frequency: int) -> Plan:
    """An active plan renewing every `frequency` `unit`s, preferring a program that sells the product."""
    plans = Plan.objects.filter(
        shop=shop, active=True, program__active=True, interval_unit=unit, interval_count=frequency
    ).order_by("pk")
    plan = plans.filter(program__products=variant.product_id).first() or plans.first()
    if plan is None:
        every = f"every {unit}" if frequency == 1 else f"every {frequency} {unit}s"
        raise Unmappable(f"no active plan delivering {every}; add one to a subscription program")
    return plan


def subscription_fields(shop: Shop, record: dict) -> dict:
    status = STATUSES.get(_text(record, "status", 20).lower())
    if status is None:
        raise Unmappable(f"status '{record.get('status')}' cannot be imported")
    unit = UNITS.get(_text(record, "order_interval_unit", 10).lower())
    if unit is None:
        raise Unmappable(f"interval unit '{record.get('order_interval_unit')}' is not day, week or month")
    try:
        frequency = int(record.get("order_interval_frequency"))
        charge_frequency = int(record.get("charge_interval_frequency") or frequency)
        quantity = int(record.get("quantity") or 1)
        price = Decimal(str(record.get("price")))
    except (TypeError, ValueError, InvalidOperation) as exc:
        raise Unmappable("interval frequency, quantity or price is not a number") from exc
    if frequency < 1 or quantity < 1 or price < 0 or not price.is_finite():
        raise Unmappable("interval frequency and quantity must be at least 1, price not negative")
    next_date = parse_date(str(record.get("next_charge_scheduled_at") or "")[:10])
    if status == Subscription.Status.ACTIVE:
        if next_date is None:
            raise Unmappable("active without a next charge date (next_charge_scheduled_at)")
        if next_date <= shop.local_today():
            raise Unmappable(
                f"next charge date {next_date.isoformat()} is not in the future; it would be charged "
                "at once — let Recharge charge it, then run again"
            )
    variant = find_variant(shop, record)
    plan = find_plan(shop, variant, unit, frequency)
    return {
        "status": status,
        "plan": plan,
        "variant": variant,
        "quantity": quantity,
        "price": price.quantize(Decimal("0.01")),
        "next_billing_date": next_date if status == Subscription.Status.ACTIVE else None,
        "created_at": parse_timestamp(record.get("created_at")),
        "cancelled_at": parse_timestamp(record.get("cancelled_at")),
        "cancel_reason": _text(record, "cancellation_reason", 500),
        # Prepaid: charged for several deliveries at once (charge frequency a multiple of the order one).
        "prepaid": charge_frequency != frequency,
        "charge_interval_frequency": charge_frequency,
        "order_interval_frequency": frequency,
    }
