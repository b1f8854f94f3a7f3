"""Stripe as a secondary gateway: a shop connects its own Stripe account with a secret key, and
every payment method of that shop whose gateway is Stripe (customers migrated with a Stripe
customer id and payment method id, `cus_...:pm_...`) is charged through it with off-session
PaymentIntents (subscriptions.adapters.stripe). Other payment methods keep their gateway.

The key is checked with one real call (`GET /v1/balance`, which any working secret or restricted
key with balance read may make) before it is saved, encrypted, with the integration.
"""

import logging

import stripe

from integrations.models import Integration
from integrations.partners import Partner, PartnerError, register_partner
from subscriptions.adapters import payments
from subscriptions.adapters.stripe import StripeGateway
from subscriptions.models import PaymentMethod
from webhooks.http import HttpResult

log = logging.getLogger(__name__)

KEY = "stripe"
KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")


def connect(integration: Integration) -> None:
    secret = str((integration.credentials or {}).get("secret_key") or "").strip()
    if secret.startswith("pk_"):
        raise PartnerError(
            "that is the publishable key; paste the secret key (sk_...) instead", field="secret_key"
        )
    if not secret.startswith(KEY_PREFIXES):
        raise PartnerError("a Stripe secret key starts with sk_live_ or sk_test_", field="secret_key")
    gateway = StripeGateway(api_key=secret, max_network_retries=0)
    try:
        balance = gateway.client().v1.balance.retrieve()
    except stripe.AuthenticationError as exc:
        raise PartnerError(
            "Stripe does not recognise this secret key", field="secret_key", status=401
        ) from exc
    except stripe.PermissionError as exc:
        raise PartnerError(
            "this restricted key may not read the balance; give it that permission or use the secret key",
            field="secret_key",
            status=403,
        ) from exc
    except stripe.StripeError as exc:
        raise PartnerError(
            f"Stripe could not be reached to check the key ({exc.user_message or exc})"
        ) from exc
    integration.config["livemode"] = bool(getattr(balance, "livemode", False))


def gateway_of_shop(payment_method: PaymentMethod) -> StripeGateway | None:
    """The shop's own Stripe account for its Stripe payment methods; None leaves the choice to the
    platform-wide gateway (STRIPE_SECRET_KEY) or, for other kinds, their own gateway."""
    if payment_method.gateway != PaymentMethod.Gateway.STRIPE:
        return None
    integration = (
        Integration.objects.filter(
            shop_id=payment_method.shop_id, partner=KEY, state=Integration.State.CONNECTED
        )
        .only("credentials")
        .first()
    )
    secret = (integration.credentials or {}).get("secret_key") if integration is not None else None
    return StripeGateway(api_key=secret) if secret else None


def _no_events(integration, event, delivery) -> HttpResult:  # pragma: no cover - never routed
    return HttpResult(None, "", {}, 0, "Stripe receives no events")


payments.register_gateway_resolver(gateway_of_shop)

register_partner(
    Partner(
        key=KEY,
        name="Stripe",
        events={},
        send=_no_events,
        connect=connect,
        credential_fields=("secret_key",),
        description=(
            "A secondary payment gateway: customers whose saved payment method is a Stripe one "
            "(for example migrated from Recharge with their Stripe customer and payment method ids) "
            "are charged in your Stripe account; everyone else keeps their gateway."
        ),
        extra={
            "credential_labels": {"secret_key": "Secret key"},
            "credential_help": {
                "secret_key": "In Stripe: Developers > API keys (sk_live_... or sk_test_...)."
            },
        },
    )
)
