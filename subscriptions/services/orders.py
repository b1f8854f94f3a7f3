"""Orders outside the billing run: a merchant or partner closing (cancelling) a pending order, or
opening it again, or giving up on the payment of a failed one."""

from django.db import transaction
from django.utils import timezone

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Order
from subscriptions.services.common import log_activity


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("shop", "customer").get(pk=order.pk)


@transaction.atomic
def order_close(*, order: Order, actor: Actor) -> Order:
    """Cancel an order that has not been charged. A paid or failed order has a charge behind it and
    cannot be closed here; closing a cancelled order again changes nothing."""
    order = _lock(order)
    if order.status == Order.Status.CANCELLED:
        return order
    if order.status != Order.Status.PENDING:
        raise DomainError(
            f"order_{order.status}",
            f"Cannot close order #{order.pk}: it is {order.get_status_display().lower()}, not pending.",
            field="status",
        )
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status"])
    log_activity(
        shop=order.shop,
        actor=actor,
        action="order_closed",
        subscription=order.subscription,
        customer=order.customer,
        description=f"Order #{order.pk} closed (cancelled before payment)",
        details={"order_id": order.pk},
    )
    return order


@transaction.atomic
def order_open(*, order: Order, actor: Actor) -> Order:
    """Reopen a closed (cancelled) order so it is pending again; an open order stays as it is."""
    order = _lock(order)
    if order.status == Order.Status.PENDING:
        return order
    if order.status != Order.Status.CANCELLED:
        raise DomainError(
            f"order_{order.status}",
            f"Cannot open order #{order.pk}: it is {order.get_status_display().lower()}; only a closed "
            "order can be opened again.",
            field="status",
        )
    order.status = Order.Status.PENDING
    order.save(update_fields=["status"])
    log_activity(
        shop=order.shop,
        actor=actor,
        action="order_opened",
        subscription=order.subscription,
        customer=order.customer,
        description=f"Order #{order.pk} opened again",
        details={"order_id": order.pk},
    )
    return order


@transaction.atomic
def order_cancel_payment(*, order: Order, actor: Actor) -> Order:
    """Give up on a failed payment: no more dunning retries, the order is cancelled and never
    charged. The subscription carries on (the shop's final action is for dunning running out).
    Only a failed order qualifies, and not while one of its retries is being charged."""
    order = _lock(order)
    if order.status != Order.Status.FAILED:
        raise DomainError(
            f"bill_{order.status}",
            f"Only a failed bill can be cancelled; this one is {order.get_status_display().lower()}.",
            field="status",
        )
    if order.charging_until is not None and order.charging_until > timezone.now():
        raise DomainError(
            "bill_charging", "A payment of this bill is being charged right now; try again shortly."
        )
    order.status = Order.Status.CANCELLED
    order.next_retry_date = None
    order.save(update_fields=["status", "next_retry_date"])
    log_activity(
        shop=order.shop,
        actor=actor,
        action="payment_given_up",
        subscription=order.subscription,
        customer=order.customer,
        description=f"Payment of order #{order.pk} given up after {order.attempt_count} attempt(s); "
        "the order is cancelled",
        details={"order_id": order.pk},
    )
    return order
