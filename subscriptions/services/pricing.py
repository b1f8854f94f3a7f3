"""Subscriber prices: what a subscription pays per unit for one of its products."""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Subscription, Variant
from subscriptions.services.common import lock_subscription, log_activity, require_status

MAX_PRICE = Decimal("9999999999.99")


def _check_price(value) -> Decimal:
    try:
        price = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(
            "invalid_price", "Give the price as a number such as 12.50.", field="price"
        ) from exc
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise DomainError("invalid_price", "The price must be between 0 and 9,999,999,999.99.", field="price")
    return price


@transaction.atomic
def subscription_change_price(
    *, subscription: Subscription, actor: Actor, variant: Variant, unit_price
) -> Subscription:
    """Set the unit price this subscriber pays for one of its products (a live subscription's line
    of that variant). The catalogue price and other subscribers are unchanged."""
    sub = lock_subscription(subscription)
    require_status(sub, Subscription.Status.ACTIVE, Subscription.Status.PAUSED, action="change a price")
    price = _check_price(unit_price)
    line = sub.lines.filter(variant_id=getattr(variant, "pk", None)).first()
    if line is None:
        raise DomainError(
            "not_found",
            f"This subscription has no line of {getattr(variant, 'sku', 'that product')}.",
            field="variant",
        )
    if line.unit_price == price:
        raise DomainError("unchanged", f"{variant.sku} already costs {price} {sub.currency}.", field="price")
    previous = line.unit_price
    line.unit_price = price
    line.save(update_fields=["unit_price"])
    log_activity(
        shop=sub.shop,
        actor=actor,
        action="price_changed",
        subscription=sub,
        description=f"Price of {variant.sku} changed from {previous} to {price} {sub.currency}",
        details={"sku": variant.sku, "from": str(previous), "to": str(price)},
    )
    return sub
