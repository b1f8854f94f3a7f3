"""Portal writes: sign-in links, staff "view as customer", replacing a card.

Subscription changes themselves go through `subscriptions.services` with `Actor.customer(email)`,
exactly as the console and the API do.
"""

import datetime as dt
import hashlib
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import MagicLink
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Customer, PaymentMethod, Shop, Subscription
from subscriptions.services.common import log_activity


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def magic_link_create(*, customer: Customer) -> str:
    """A new single-use sign-in URL (absolute) for the customer, valid PORTAL_MAGIC_LINK_MINUTES."""
    token = secrets.token_urlsafe(32)
    MagicLink.objects.create(
        shop_id=customer.shop_id,
        customer=customer,
        token_hash=_hash(token),
        expires_at=timezone.now() + dt.timedelta(minutes=settings.PORTAL_MAGIC_LINK_MINUTES),
    )
    return settings.SITE_URL + reverse("portal:magic_link", args=[token])


def over_limit(key: str, *, limit: int, window: int) -> bool:
    """Count one request against `key` in the shared cache; True once more than `limit` fall in the
    `window` (seconds) that began with the first of them."""
    if cache.add(key, 1, timeout=window):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
    return count > limit


def _over_limit(key: str) -> bool:
    return over_limit(
        key, limit=settings.PORTAL_LOGIN_RATE_LIMIT, window=settings.PORTAL_LOGIN_RATE_WINDOW_SECONDS
    )


def magic_link_request(*, shop: Shop, email: str, ip: str, next_path: str = "") -> bool:
    """Email a sign-in link when `email` is a customer of `shop`. Returns False only when the
    email or the IP address asked too often; an unknown email returns True like a known one, so
    the answer never tells who is a customer. `next_path` (a path on this site) is where the link
    lands after signing in, instead of the overview."""
    email = (email or "").strip().lower()
    email_key = "portal:login:email:" + _hash(f"{shop.pk}:{email}")
    ip_key = "portal:login:ip:" + _hash(ip or "unknown")
    # Both counters always move, so a blocked IP cannot probe addresses either.
    limited_email = _over_limit(email_key)
    limited_ip = _over_limit(ip_key)
    if limited_email or limited_ip:
        return False
    customer = Customer.objects.filter(shop=shop, email__iexact=email).first()
    if customer is None:
        return True
    url = magic_link_create(customer=customer)
    if next_path:
        url += "?" + urlencode({"next": next_path})
    minutes = settings.PORTAL_MAGIC_LINK_MINUTES
    send_mail(
        subject=_("Sign in to %(shop)s") % {"shop": shop.name},
        message=_(
            "Hello %(name)s,\n\nUse this link to manage your subscriptions at %(shop)s:\n\n%(url)s\n\n"
            "It works once and for %(minutes)d minutes. If you did not ask for it, ignore this email."
        )
        % {"name": customer.first_name or customer.email, "shop": shop.name, "url": url, "minutes": minutes},
        from_email=None,
        recipient_list=[customer.email],
    )
    return True


@transaction.atomic
def magic_link_consume(*, token: str) -> Customer | None:
    """The customer a valid, unused, unexpired link belongs to (the link is used up), or None.
    The first sign-in marks the customer as having logged in."""
    link = (
        MagicLink.objects.select_for_update()
        .select_related("customer__shop")
        .filter(token_hash=_hash(token or ""))
        .first()
    )
    now = timezone.now()
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    # Conditional update: two requests racing with the same link cannot both win.
    if not MagicLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
        return None
    return services.customer_mark_logged_in(customer=link.customer)


def portal_view_as(*, user, customer: Customer) -> None:
    """Record that a staff member opened the portal as this customer."""
    log_activity(
        shop=customer.shop,
        actor=Actor.admin(user),
        action="portal_viewed_as_customer",
        customer=customer,
        description=f"Opened the customer portal as {customer.email}",
    )


# Test gateway cards (the numbers Stripe documents); any other valid number succeeds.
TEST_CARD_TOKENS = {
    "4000000000000002": "tok_declined",
    "4000000000009995": "tok_insufficient_funds",
}


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number[:2] in {"34", "37"}:
        return "American Express"
    return "Card"


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, digit in enumerate(reversed(number)):
        d = int(digit)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


@transaction.atomic
def subscription_replace_card(
    *, subscription: Subscription, actor: Actor, number: str, exp_month: int, exp_year: int
) -> PaymentMethod:
    """Tokenise a card with the test gateway and charge the subscription to it. Only the brand,
    the last four digits and the expiry are kept: never the number."""
    number = "".join(ch for ch in (number or "") if ch.isdigit())
    if not 12 <= len(number) <= 19 or not _luhn_ok(number):
        raise DomainError("invalid_card", _("That card number is not valid."), field="number")
    today = subscription.shop.local_today()
    if (exp_year, exp_month) < (today.year, today.month):
        raise DomainError("card_expired", _("That card has expired."), field="exp_year")
    method = services.payment_method_add(
        customer=subscription.customer,
        actor=actor,
        gateway=PaymentMethod.Gateway.TEST,
        token=TEST_CARD_TOKENS.get(number, "tok_success"),
        brand=card_brand(number),
        last4=number[-4:],
        exp_month=exp_month,
        exp_year=exp_year,
    )
    services.subscription_update_payment_method(subscription=subscription, actor=actor, payment_method=method)
    return method


# ---------------------------------------------------------------- Stripe Elements

STRIPE_BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
}


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def _card_setup():
    from subscriptions.adapters import payments
    from subscriptions.adapters.stripe import StripeCardSetup, StripeGateway

    return StripeCardSetup(payments._GATEWAYS.setdefault("stripe", StripeGateway()))


def _stripe_failed(exc) -> DomainError:
    """A card error's own text is meant for the cardholder; anything else gets a plain message."""
    import stripe

    message = exc.user_message if isinstance(exc, stripe.CardError) else None
    message = message or _(
        "The card could not be saved with our payment processor. Nothing was changed; please try again."
    )
    return DomainError("stripe_error", str(message)[:300])


def stripe_setup_intent_create(*, customer: Customer) -> str:
    """A SetupIntent for the customer's Stripe customer (made on first use and kept on the
    Customer); returns its client secret for Stripe.js."""
    import stripe

    setup = _card_setup()
    try:
        with transaction.atomic():
            locked = Customer.objects.select_for_update().get(pk=customer.pk)
            if not locked.stripe_customer_id:
                locked.stripe_customer_id = setup.customer_create(email=locked.email)
                locked.save(update_fields=["stripe_customer_id", "updated_at"])
            customer.stripe_customer_id = locked.stripe_customer_id
        return setup.setup_intent_create(customer_id=customer.stripe_customer_id)
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc


def subscription_replace_card_stripe(
    *, subscription: Subscription, actor: Actor, payment_method_id: str
) -> PaymentMethod:
    """Charge the subscription to a card the browser saved through a SetupIntent. The
    PaymentMethod must be a card attached to this customer's Stripe customer."""
    import stripe

    customer = subscription.customer
    pm_id = (payment_method_id or "").strip()
    if not pm_id.startswith("pm_") or not customer.stripe_customer_id:
        raise DomainError("invalid_payment_method", _("That card could not be saved. Nothing was changed."))
    try:
        pm = _card_setup().payment_method_retrieve(pm_id)
    except stripe.StripeError as exc:
        raise _stripe_failed(exc) from exc
    card = getattr(pm, "card", None)
    if pm.customer != customer.stripe_customer_id or card is None:
        raise DomainError("invalid_payment_method", _("That card could not be saved. Nothing was changed."))
    with transaction.atomic():
        method = services.payment_method_add(
            customer=customer,
            actor=actor,
            gateway=PaymentMethod.Gateway.STRIPE,
            token=f"{customer.stripe_customer_id}:{pm.id}",
            brand=STRIPE_BRANDS.get(card.brand, "Card"),
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
        )
        services.subscription_update_payment_method(
            subscription=subscription, actor=actor, payment_method=method
        )
    return method
