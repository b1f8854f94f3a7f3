"""Catalogue: products and their variants as the merchant maintains them."""

from decimal import Decimal, InvalidOperation

from django.db import transaction

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.events import emit_subscription_event
from subscriptions.models import Product, Subscription, Variant
from subscriptions.selectors import subscriptions_with_details
from subscriptions.services.common import log_activity

PRODUCT_FIELDS = ("title", "description", "active")
VARIANT_FIELDS = ("title", "price", "available", "archived", "inventory")


def _check_unknown(fields: dict, allowed: tuple[str, ...], label: str) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError("unknown_field", f"The {label} field '{name}' cannot be changed.", field=name)


@transaction.atomic
def product_update(*, product: Product, actor: Actor, **fields) -> Product:
    """Rename, describe, or switch a product on or off. A title is never empty."""
    _check_unknown(fields, PRODUCT_FIELDS, "product")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("required", "A product needs a title.", field="title")
    for name, value in fields.items():
        setattr(product, name, value)
    if fields:
        product.save(update_fields=list(fields))
    return product


@transaction.atomic
def variant_update(*, variant: Variant, actor: Actor, **fields) -> Variant:
    """Change a variant's price, availability, archive flag or stock. The price is never negative;
    stock is a whole number or empty (not tracked). Existing subscribers keep the line price they
    signed up with (see `SubscriptionLine.unit_price`)."""
    _check_unknown(fields, VARIANT_FIELDS, "variant")
    variant = Variant.objects.select_for_update().get(pk=variant.pk)
    if "price" in fields:
        try:
            price = Decimal(fields["price"])
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise DomainError("invalid_price", "The price must be a number.", field="price") from exc
        if price < 0:
            raise DomainError("invalid_price", "The price cannot be negative.", field="price")
        fields["price"] = price.quantize(Decimal("0.01"))
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("required", "A variant needs a title.", field="title")
    inventory = fields.get("inventory")
    if inventory is not None and (isinstance(inventory, bool) or not isinstance(inventory, int)):
        raise DomainError("invalid_inventory", "Stock must be a whole number.", field="inventory")
    was_purchasable = variant.purchasable
    for name, value in fields.items():
        setattr(variant, name, value)
    if fields:
        variant.save(update_fields=list(fields))
    if was_purchasable and not variant.purchasable:
        _announce_unavailable(variant, actor)
    return variant


def _announce_unavailable(variant: Variant, actor: Actor) -> int:
    """Each ACTIVE subscription with this variant hears about it now, before its next order
    (at billing the shop's setting decides between leaving the line out and skipping the order)."""
    affected = subscriptions_with_details(
        Subscription.objects.filter(
            shop_id=variant.shop_id, status=Subscription.Status.ACTIVE, lines__variant=variant
        )
    ).select_related("shop")
    count = 0
    for sub in affected:
        log_activity(
            shop=sub.shop,
            actor=actor,
            action="product_unavailable",
            subscription=sub,
            description=f"{variant} is no longer available",
        )
        emit_subscription_event(
            "subscription.product_unavailable",
            sub,
            actor=actor,
            extra={
                "unavailable_item": {
                    "product": variant.product.title,
                    "variant": variant.title,
                    "sku": variant.sku,
                }
            },
        )
        count += 1
    return count
