"""The domain-event catalogue and the payload every subscription event carries.

One envelope for every destination (merchant webhooks, Klaviyo, SMS tools, Shopify Flow):
`data` holds the nested customer and subscription (with items) plus flat fields that email and
SMS templates can use directly.
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings

from subscriptions.actors import Actor
from subscriptions.models import Customer, Subscription
from subscriptions.selectors import effective_next_order_date
from webhooks.outbox import emit

# type -> (meaning, seed webhook name or "")
EVENT_CATALOGUE: dict[str, tuple[str, str]] = {
    "subscription.created": ("New subscription", "Subscription create"),
    "subscription.upcoming_order": ("Order in N days", "Subscription upcoming order"),
    "subscription.send_now": ("Billed at the next billing time", "Subscription send now"),
    "subscription.transaction_succeeded": ("Renewal charged", "Subscription successful payment"),
    "subscription.transaction_failed": ("Renewal charge failed", "Subscription failed payment"),
    "subscription.skipped": ("Next order skipped", "Subscription skip"),
    "subscription.unskipped": ("Skip undone", "Subscription un-skip"),
    "subscription.gifted": ("Next order gifted", "Subscription gift"),
    "subscription.next_order_date_changed": ("Next order date changed", "Subscription next send date"),
    "subscription.product_unavailable": ("A product is unavailable", ""),
    "subscription.canceled": ("Cancelled", "Subscription cancel"),
    "subscription.paused": ("Paused", "Subscription pause"),
    "subscription.activated": ("Resumed from pause", "Subscription activate"),
    "subscription.auto_resume_upcoming": ("Auto-resume in 7 days", ""),
    "subscription.payment_method_updated": ("Payment method replaced", "Payment method update"),
    "customer.deactivated": ("Customer's last active subscription cancelled", ""),
    "loyalty.points_earned": ("Points earned", ""),
    "loyalty.bonus_points_earned": ("Bonus points earned", ""),
    "loyalty.referral_succeeded": ("Someone used the customer's referral code", ""),
    "loyalty.points_redeemed": ("Points redeemed", ""),
    "loyalty.referral_code_generated": ("Referral code generated", ""),
}


_link_builders: list[Callable[[Subscription | None], str]] = []


def register_link_builder(fn: Callable[[Subscription | None], str]) -> None:
    """Let the portal build `account_page_link` (a signed deep link) without this app importing it.
    The last builder registered wins; registering the same one twice is harmless."""
    if fn not in _link_builders:
        _link_builders.append(fn)


def account_page_link(subscription: Subscription | None = None) -> str:
    if _link_builders:
        return _link_builders[-1](subscription)
    # No portal installed: the plain URL.
    base = f"{settings.SITE_URL}/account/"
    return f"{base}subscriptions/{subscription.pk}/" if subscription is not None else base


def customer_data(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.pk,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "has_logged_in": customer.has_logged_in,
        "subscriber_since": customer.subscriber_since,
        "external_id": customer.external_id,
    }


def _lines(subscription: Subscription) -> list:
    """The lines with variant and product: those prefetched by the caller (`lines__variant__product`,
    as a batch of renewals does), else one query."""
    if "lines" in getattr(subscription, "_prefetched_objects_cache", {}):
        return sorted(subscription.lines.all(), key=lambda line: line.pk)
    return list(subscription.lines.select_related("variant__product").order_by("id"))


def subscription_data(subscription: Subscription) -> dict[str, Any]:
    plan = subscription.plan
    return {
        "id": subscription.pk,
        "status": subscription.status,
        "program": plan.program.name,
        "plan": plan.name,
        "frequency_unit": plan.interval_unit,
        "frequency_interval": plan.interval_count,
        "next_billing_date": subscription.next_billing_date,
        "auto_resume_date": subscription.auto_resume_date,
        "cancel_reason": subscription.cancel_reason,
        "order_count": subscription.order_count,
        "currency": subscription.currency,
        "created_at": subscription.created_at,
        "external_id": subscription.external_id,
        "items": [
            {
                "id": line.pk,
                "product": line.variant.product.title,
                "variant": line.variant.title,
                "sku": line.variant.sku,
                "quantity": line.quantity,
                "price": line.unit_price,
                "currency": subscription.currency,
            }
            for line in _lines(subscription)
        ],
    }


def _format_date(shop, date: dt.date | None) -> str:
    return date.strftime(shop.date_format) if date else ""


def subscription_event(
    type: str,
    subscription: Subscription,
    *,
    actor: Actor,
    previous: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The arguments of `outbox.emit` for one subscription event (see `emit_subscription_event`)."""
    if type not in EVENT_CATALOGUE:
        raise ValueError(f"unknown event type {type}")
    shop = subscription.shop
    customer = subscription.customer
    next_date = (
        effective_next_order_date(subscription)
        if subscription.status != Subscription.Status.CANCELLED
        else None
    )
    data: dict[str, Any] = {
        "customer": customer_data(customer),
        "subscription": subscription_data(subscription),
        "previous": previous or {},
        # Flat, template-friendly fields for SMS and email copy.
        "first_name": customer.first_name,
        "account_page_link": account_page_link(subscription),
        # The date the next order is really placed: a skipped date is stepped over.
        "next_order_date": _format_date(shop, next_date),
        "new_delivery_date": _format_date(shop, next_date),
        "frequency_unit": subscription.plan.interval_unit,
        "frequency_interval": subscription.plan.interval_count,
    }
    data.update(extra or {})
    return {"shop_id": shop.pk, "shop": shop.domain, "type": type, "actor": str(actor), "data": data}


def emit_subscription_event(
    type: str,
    subscription: Subscription,
    *,
    actor: Actor,
    previous: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    emit(**subscription_event(type, subscription, actor=actor, previous=previous, extra=extra))


def emit_customer_event(
    type: str, customer: Customer, *, actor: Actor, extra: dict[str, Any] | None = None
) -> None:
    if type not in EVENT_CATALOGUE:
        raise ValueError(f"unknown event type {type}")
    data = {
        "customer": customer_data(customer),
        "first_name": customer.first_name,
        "account_page_link": account_page_link(),
    }
    data.update(extra or {})
    emit(shop_id=customer.shop_id, shop=customer.shop.domain, type=type, actor=str(actor), data=data)
