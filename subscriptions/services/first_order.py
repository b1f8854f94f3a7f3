"""The first order of a subscription started at a hosted checkout: placed and paid on the day the
customer subscribes, priced exactly as a renewal would be (the plan's price per line, then the
subscription's discount codes). Renewals follow from the subscription's next billing date."""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Address, Customer, Order, OrderLine, PaymentAttempt, Subscription, Variant
from subscriptions.services.billing import _active_discounts, _counted_discounts, _new_order, _order_lines
from subscriptions.services.common import log_activity


@transaction.atomic
def order_create_first(*, subscription: Subscription, actor: Actor) -> Order:
    """The subscription's first order, dated today in the shop, PENDING until its payment is
    recorded. Refused when a line cannot ship (nothing is created)."""
    sub = subscription
    today = sub.shop.local_today()
    lines = list(sub.lines.select_related("variant__product").order_by("id"))
    order, available, unavailable = _new_order(sub, today, lines, list(_active_discounts([sub.pk])), None)
    if order is None or unavailable:
        raise DomainError(
            "variant_unavailable", _("A product in your order is no longer available."), field="lines"
        )
    order.save(force_insert=True)
    OrderLine.objects.bulk_create(_order_lines(order, available))
    return order


@transaction.atomic
def order_create_one_time(
    *, customer: Customer, lines: list[tuple[Variant, int]], shipping_address: Address, actor: Actor
) -> Order:
    """A one-time purchase bought at the same checkout: catalogue prices, no subscription,
    PENDING until its payment is recorded."""
    shop = customer.shop
    for variant, _quantity in lines:
        if variant.shop_id != shop.pk or not variant.purchasable:
            raise DomainError(
                "variant_unavailable", _("A product in your order is no longer available."), field="lines"
            )
    subtotal = sum((variant.price * quantity for variant, quantity in lines), Decimal("0.00"))
    order = Order.objects.create(
        shop=shop,
        customer=customer,
        billing_date=shop.local_today(),
        currency=shop.currency,
        subtotal=subtotal,
        total=subtotal,
        shipping_address=shipping_address.as_dict(),
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            shop=shop,
            order=order,
            variant=variant,
            title=f"{variant.product.title} — {variant.title}",
            sku=variant.sku,
            quantity=quantity,
            unit_price=variant.price,
            total=variant.price * quantity,
        )
        for variant, quantity in lines
    )
    return order


@transaction.atomic
def order_record_checkout_payment(
    *, order: Order, actor: Actor, gateway: str, charge_reference: str, idempotency_key: str
) -> Order:
    """Mark a first order paid by the checkout's charge: one succeeded payment attempt (the
    charge's reference), the subscription's order count, discounts that last N payments."""
    now = timezone.now()
    PaymentAttempt.objects.create(
        shop_id=order.shop_id,
        order=order,
        number=1,
        idempotency_key=idempotency_key,
        amount=order.total,
        currency=order.currency,
        gateway=gateway,
        status=PaymentAttempt.Status.SUCCEEDED,
        gateway_reference=charge_reference,
        finished_at=now,
    )
    order.status = Order.Status.PAID
    order.paid_at = now
    order.attempt_count = 1
    order.save(update_fields=["status", "paid_at", "attempt_count"])
    if order.subscription_id:
        Subscription.objects.filter(pk=order.subscription_id).update(order_count=F("order_count") + 1)
        _counted_discounts().filter(subscription_id=order.subscription_id).update(
            payments_remaining=F("payments_remaining") - 1
        )
    log_activity(
        shop=order.shop,
        actor=actor,
        action="first_order_paid" if order.subscription_id else "one_time_order_paid",
        subscription=order.subscription,
        customer=order.customer,
        description=f"Order #{order.pk} placed at checkout and charged {order.total} {order.currency}",
        details={"order_id": order.pk, "charge": charge_reference},
    )
    return order
