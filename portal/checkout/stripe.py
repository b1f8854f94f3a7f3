"""Stripe Elements at the hosted checkout (with STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY set):
the card goes from Stripe's iframe to Stripe through a SetupIntent on a Stripe customer made for the
checkout; placing the order saves that PaymentMethod and charges it off-session."""

from django.db import transaction
from django.utils.translation import gettext as _

from portal.checkout.models import Checkout
from portal.services import STRIPE_BRANDS, _card_setup, _stripe_failed
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Customer, PaymentMethod


def checkout_setup_intent_create(*, checkout: Checkout) -> str:
    """A SetupIntent (usage off_session) for the checkout's Stripe customer, made on first use;
    returns its client secret for Stripe.js."""
    import stripe

    setup = _card_setup()
    try:
        with transaction.atomic():
            locked = Checkout.objects.select_for_update().get(pk=checkout.pk)
            if not locked.stripe_customer_id:
                locked.stripe_customer_id = (
                    setup.gateway.client()
                    .v1.customers.create(params={"metadata": {"checkout": str(locked.token)}})
                    .id
                )
                locked.save(update_fields=["stripe_customer_id"])
            checkout.stripe_customer_id = locked.stripe_customer_id
        return setup.setup_intent_create(customer_id=checkout.stripe_customer_id)
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc


def stripe_payment_method_add(
    *, customer: Customer, checkout: Checkout, payment_method_id: str, actor: Actor
) -> PaymentMethod:
    """Save the card the browser confirmed: it must be a card attached to the checkout's Stripe
    customer (anything else is refused and nothing is saved)."""
    import stripe

    pm_id = (payment_method_id or "").strip()
    refused = DomainError(
        "invalid_payment_method",
        _("That card could not be used. Nothing was charged."),
        field="payment_method",
    )
    if not pm_id.startswith("pm_") or not checkout.stripe_customer_id:
        raise refused
    try:
        pm = _card_setup().payment_method_retrieve(pm_id)
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    card = getattr(pm, "card", None)
    if pm.customer != checkout.stripe_customer_id or card is None:
        raise refused
    if not customer.stripe_customer_id:
        Customer.objects.filter(pk=customer.pk).update(stripe_customer_id=checkout.stripe_customer_id)
        customer.stripe_customer_id = checkout.stripe_customer_id
    return services.payment_method_add(
        customer=customer,
        actor=actor,
        gateway=PaymentMethod.Gateway.STRIPE,
        token=f"{checkout.stripe_customer_id}:{pm.id}",
        brand=STRIPE_BRANDS.get(card.brand, "Card"),
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
    )
