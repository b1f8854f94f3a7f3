"""Subscriptions brought over from another platform (a Recharge migration).

A migrated subscription already exists for its customer: it was created, welcomed and billed
elsewhere. So importing it writes the rows and one activity entry, and emits no event: no
`subscription.created`, no webhook, no partner message, no customer notification.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import (
    Address,
    Customer,
    PaymentMethod,
    Plan,
    Subscription,
    SubscriptionLine,
    Variant,
)
from subscriptions.services.common import fmt, log_activity

Status = Subscription.Status


@transaction.atomic
def subscription_import(
    *,
    customer: Customer,
    plan: Plan,
    lines: list[tuple[Variant, int, Decimal]],
    actor: Actor,
    status: str,
    next_billing_date: dt.date | None,
    payment_method: PaymentMethod | None = None,
    shipping_address: Address | None = None,
    external_id: str = "",
    created_at: dt.datetime | None = None,
    cancelled_at: dt.datetime | None = None,
    cancel_reason: str = "",
    source: str = "",
) -> Subscription:
    """Write a subscription as it stands on the platform it comes from: its status, next charge
    date and the price each subscriber pays (kept as is, not repriced by the plan). Everything it
    refers to must be in the customer's shop; an ACTIVE one needs a next charge date. Emits no
    event (see the module docstring)."""
    shop = customer.shop
    if plan.shop_id != shop.pk:
        raise DomainError("not_found", "That plan does not exist in this shop.", field="plan")
    if status not in (Status.ACTIVE, Status.CANCELLED):
        raise DomainError("invalid_status", f"Cannot import a {status} subscription.", field="status")
    if status == Status.ACTIVE and next_billing_date is None:
        raise DomainError(
            "required", "An active subscription needs its next charge date.", field="next_billing_date"
        )
    for obj, field in ((payment_method, "payment_method"), (shipping_address, "shipping_address")):
        if obj is not None and obj.customer_id != customer.pk:
            raise DomainError(
                "not_found", f"That {field.replace('_', ' ')} is another customer's.", field=field
            )
    if not lines:
        raise DomainError("no_lines", "A subscription needs at least one product.", field="lines")
    for variant, quantity, price in lines:
        if variant.shop_id != shop.pk:
            raise DomainError("not_found", "That product variant does not exist in this shop.", field="lines")
        if quantity < 1 or price < 0:
            raise DomainError(
                "invalid_line", "Quantity must be at least 1 and price not negative.", field="lines"
            )
    subscription = Subscription.objects.create(
        shop=shop,
        customer=customer,
        plan=plan,
        status=status,
        next_billing_date=next_billing_date if status == Status.ACTIVE else None,
        anchor_day=next_billing_date.day if next_billing_date else None,
        payment_method=payment_method,
        shipping_address=shipping_address,
        currency=shop.currency,
        external_id=external_id,
        created_at=created_at or timezone.now(),
        cancelled_at=(cancelled_at or timezone.now()) if status == Status.CANCELLED else None,
        cancel_reason=cancel_reason[:500] if status == Status.CANCELLED else "",
    )
    SubscriptionLine.objects.bulk_create(
        SubscriptionLine(shop=shop, subscription=subscription, variant=v, quantity=q, unit_price=p)
        for v, q, p in lines
    )
    if status == Status.ACTIVE and customer.subscriber_since is None:
        customer.subscriber_since = created_at or timezone.now()
        customer.save(update_fields=["subscriber_since", "updated_at"])
    log_activity(
        shop=shop,
        actor=actor,
        action="imported",
        subscription=subscription,
        description=f"Subscription imported from {source or actor.name} ({status}), "
        f"next order {fmt(subscription.next_billing_date)}",
        details={"source": source, "external_id": external_id},
    )
    return subscription
