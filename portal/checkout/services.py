"""Hosted checkout writes: the session cart, the checkout row, and placing the order.

Placing an order is one database transaction: customer, address, payment method, one subscription
per plan (each emits `subscription.created`), discount or referral code, first orders, and the
payment, which is charged last, inside the transaction, under the checkout's idempotency key. A
refused payment rolls everything back; a failure after the payment went through rolls everything
back and refunds it. Nothing is ever half-created.
"""

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from loyalty import services as loyalty_services
from loyalty.models import ReferralCode
from portal.checkout.models import Checkout
from portal.checkout.selectors import CART_SESSION_KEY, MAX_CART_LINES, CartLine, cart_groups, cart_raw
from portal.services import TEST_CARD_TOKENS, card_brand, over_limit
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.adapters.payments import ChargeResult, gateway_for
from subscriptions.errors import DomainError
from subscriptions.models import Customer, DiscountCode, PaymentMethod, Shop, Subscription
from subscriptions.services.first_order import (
    order_create_first,
    order_create_one_time,
    order_record_checkout_payment,
)

log = logging.getLogger(__name__)

# More test cards (Stripe's documented numbers) beside the portal's: an unreachable gateway.
CHECKOUT_TEST_CARD_TOKENS = {**TEST_CARD_TOKENS, "4000000000000119": "tok_network_error"}


# ---------------------------------------------------------------- cart (session)


def cart_add(*, session, shop: Shop, variant_id: int, plan_id: int | None, quantity: int) -> None:
    """Add a line; the same variant on the same plan adds up. A cart holds at most MAX_CART_LINES."""
    carts = dict(session.get(CART_SESSION_KEY, {}))
    lines = cart_raw(session, shop)
    for row in lines:
        if row["variant"] == variant_id and row["plan"] == plan_id:
            row["quantity"] = min(row["quantity"] + quantity, 1000)
            break
    else:
        if len(lines) >= MAX_CART_LINES:
            raise DomainError("cart_full", _("Your cart is full."), field="quantity")
        lines.append({"variant": variant_id, "plan": plan_id, "quantity": quantity})
    carts[str(shop.pk)] = lines
    session[CART_SESSION_KEY] = carts


def cart_remove(*, session, shop: Shop, index: int) -> None:
    carts = dict(session.get(CART_SESSION_KEY, {}))
    lines = cart_raw(session, shop)
    if 0 <= index < len(lines):
        del lines[index]
    carts[str(shop.pk)] = lines
    session[CART_SESSION_KEY] = carts


def cart_clear(*, session, shop: Shop) -> None:
    carts = dict(session.get(CART_SESSION_KEY, {}))
    carts.pop(str(shop.pk), None)
    session[CART_SESSION_KEY] = carts


# ---------------------------------------------------------------- rate limit


def checkout_rate_limited(*, ip: str) -> bool:
    """Count one order attempt for this IP address; True once it passed the limit for the window
    (SUBSCRIBE_RATE_LIMIT per SUBSCRIBE_RATE_WINDOW_SECONDS, in the shared cache)."""
    key = "subscribe:ip:" + hashlib.sha256((ip or "unknown").encode()).hexdigest()
    return over_limit(key, limit=settings.SUBSCRIBE_RATE_LIMIT, window=settings.SUBSCRIBE_RATE_WINDOW_SECONDS)


# ---------------------------------------------------------------- checkout


def checkout_open(*, shop: Shop, token: str | None) -> Checkout:
    """The shopper's open checkout (the token kept in their session), or a new one."""
    if token:
        found = Checkout.objects.filter(shop=shop, token=token, status=Checkout.Status.OPEN).first()
        if found is not None:
            return found
    return Checkout.objects.create(shop=shop)


@dataclass
class Card:
    """What the test gateway form gives (number, expiry) or a Stripe PaymentMethod (pm_...)."""

    number: str = ""
    exp_month: int | None = None
    exp_year: int | None = None
    stripe_payment_method: str = ""


def discount_code_find(*, shop: Shop, code: str) -> DiscountCode | None:
    return DiscountCode.objects.filter(shop=shop, code=code).first() if code else None


def _payment_method(customer: Customer, checkout: Checkout, card: Card, actor: Actor) -> PaymentMethod:
    if card.stripe_payment_method:
        from portal.checkout.stripe import stripe_payment_method_add

        return stripe_payment_method_add(
            customer=customer, checkout=checkout, payment_method_id=card.stripe_payment_method, actor=actor
        )
    return services.payment_method_add(
        customer=customer,
        actor=actor,
        gateway=PaymentMethod.Gateway.TEST,
        token=CHECKOUT_TEST_CARD_TOKENS.get(card.number, "tok_success"),
        brand=card_brand(card.number),
        last4=card.number[-4:],
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )


def _apply_code(
    *, shop: Shop, code: str, customer: Customer, subscriptions: list[Subscription], actor
) -> None:
    """A discount code goes on every new subscription; a referral code applies the shop's referee
    discount to the first one (loyalty's rules: new customers only, no self-referral)."""
    if not code:
        return
    if discount_code_find(shop=shop, code=code) is not None:
        if not subscriptions:
            raise DomainError(
                "code_not_for_one_time", _("Discount codes apply to subscriptions only."), field="code"
            )
        for sub in subscriptions:
            services.subscription_apply_discount(subscription=sub, actor=actor, code=code)
        return
    if ReferralCode.objects.filter(shop=shop, code=code).exists():
        loyalty_services.referral_apply(code=code, customer=customer, actor=actor)
        return
    raise DomainError("invalid_code", _("The code %(code)s does not exist.") % {"code": code}, field="code")


def _refund(checkout: Checkout, method: PaymentMethod, result: ChargeResult, amount: Decimal) -> None:
    """Give back a charge whose order could not be saved, and keep a note of it on the checkout."""
    try:
        refund = gateway_for(method).refund(
            charge_reference=result.reference,
            amount=amount,
            currency=checkout.shop.currency,
            idempotency_key=f"refund-{checkout.idempotency_key}",
        )
        note = {
            "charge": result.reference,
            "amount": str(amount),
            "refund": refund.reference,
            "status": refund.status,
        }
    except Exception as exc:  # the order is already lost: never hide that behind this error
        log.exception("refunding checkout %s failed", checkout.pk)
        note = {"charge": result.reference, "amount": str(amount), "status": "error", "error": str(exc)[:200]}
    if note["status"] != "succeeded":
        log.error("checkout %s: charge %s could not be refunded: %s", checkout.pk, result.reference, note)
    Checkout.objects.filter(pk=checkout.pk).update(refunds=checkout.refunds + [note])


class PaymentRefused(DomainError):
    """The card was declined: the checkout's next attempt uses a new idempotency key."""


def checkout_place(
    *,
    checkout: Checkout,
    lines: list[CartLine],
    customer: Customer | None,
    email: str,
    name: dict,
    address: dict,
    card: Card,
    code: str = "",
) -> Checkout:
    """Place the checkout's order (see the module docstring). `customer` is the signed-in customer,
    or None for a new one made from `email` and `name`. Placing a completed checkout again returns
    it unchanged: a double submit charges once."""
    checkout.refresh_from_db()
    if checkout.status == Checkout.Status.COMPLETED:
        return checkout
    if not lines:
        raise DomainError("empty_cart", _("Your cart is empty."))
    shop = checkout.shop
    today = shop.local_today()
    actor = Actor.customer(customer.email if customer else email)
    charged: tuple[PaymentMethod, ChargeResult, Decimal] | None = None
    try:
        with transaction.atomic():
            locked = Checkout.objects.select_for_update().select_related("shop").get(pk=checkout.pk)
            if locked.status == Checkout.Status.COMPLETED:
                return locked
            if customer is None:
                customer = services.customer_create(shop=shop, email=email, actor=actor, **name)
            shipping = services.address_create(customer=customer, actor=actor, **address)
            method = _payment_method(customer, locked, card, actor)
            groups = cart_groups(lines, today=today)
            subscriptions = [
                services.subscription_create(
                    customer=customer,
                    plan=group.plan,
                    lines=[(line.variant, line.quantity) for line in group.lines],
                    actor=actor,
                    payment_method=method,
                    shipping_address=shipping,
                )
                for group in groups
                if group.plan is not None
            ]
            _apply_code(shop=shop, code=code, customer=customer, subscriptions=subscriptions, actor=actor)
            orders = [order_create_first(subscription=sub, actor=actor) for sub in subscriptions]
            one_time = [line for group in groups if group.plan is None for line in group.lines]
            if one_time:
                orders.append(
                    order_create_one_time(
                        customer=customer,
                        lines=[(line.variant, line.quantity) for line in one_time],
                        shipping_address=shipping,
                        actor=actor,
                    )
                )
            total = sum((order.total for order in orders), Decimal("0.00"))
            result = ChargeResult("succeeded", reference="free")
            if total > 0:
                result = gateway_for(method).charge(
                    payment_method=method,
                    amount=total,
                    currency=shop.currency,
                    idempotency_key=locked.idempotency_key,
                    description=f"{shop.name} checkout {locked.token}",
                )
                if result.status == "error":
                    # Unknown outcome: the next try asks again with the same key.
                    raise DomainError(
                        "gateway_unavailable",
                        _(
                            "We could not reach our payment processor. Please try again: "
                            "you will not be charged twice."
                        ),
                        field="number",
                    )
                if result.status != "succeeded":
                    raise PaymentRefused(
                        result.code or "card_declined",
                        result.message or _("The card was declined."),
                        field="number",
                    )
                charged = (method, result, total)
            for index, order in enumerate(orders, start=1):
                order_record_checkout_payment(
                    order=order,
                    actor=actor,
                    gateway=method.gateway,
                    charge_reference=result.reference,
                    idempotency_key=f"{locked.idempotency_key}-{index}",
                )
            locked.status = Checkout.Status.COMPLETED
            locked.customer = customer
            locked.subscription_ids = [sub.pk for sub in subscriptions]
            locked.order_ids = [order.pk for order in orders]
            locked.gateway = method.gateway
            locked.charge_reference = result.reference
            locked.amount = total
            locked.currency = shop.currency
            locked.completed_at = timezone.now()
            locked.save()
        return locked
    except Exception as exc:
        if charged is not None:
            _refund(checkout, *charged)
        if charged is not None or isinstance(exc, PaymentRefused):
            # A new key for the next try: this one is spent (refused, or charged and refunded).
            Checkout.objects.filter(pk=checkout.pk).update(attempt=F("attempt") + 1)
        raise
