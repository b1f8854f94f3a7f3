"""Stripe through the official `stripe` package: off-session PaymentIntents with idempotency keys.

The payment method's `token` is `cus_...:pm_...` (Stripe customer and payment method ids).
"""

from decimal import Decimal

import stripe
from django.conf import settings

from subscriptions.adapters.payments import ChargeResult, RefundResult
from subscriptions.models import PaymentMethod

# Currencies Stripe charges in whole units (no cents).
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"}


def minor_units(amount: Decimal, currency: str) -> int:
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    return int((amount * factor).quantize(Decimal("1")))


class StripeGateway:
    name = "stripe"

    def __init__(self, api_key: str | None = None, *, max_network_retries: int = 2):
        self.api_key = api_key
        self.max_network_retries = max_network_retries

    def client(self) -> stripe.StripeClient:
        key = self.api_key or settings.STRIPE_SECRET_KEY
        # Explicitly `requests`, whatever else is installed: one HTTP stack for every adapter (and
        # the one the recorded-HTTP tests intercept). Retries reuse the idempotency key.
        return stripe.StripeClient(
            key, max_network_retries=self.max_network_retries, http_client=stripe.RequestsClient()
        )

    def charge(
        self, *, payment_method: PaymentMethod, amount, currency, idempotency_key, description
    ) -> ChargeResult:
        customer_id, _, pm_id = payment_method.token.partition(":")
        if not pm_id:
            return ChargeResult(
                "failed", code="invalid_payment_method", message="The Stripe payment method is incomplete."
            )
        try:
            intent = self.client().v1.payment_intents.create(
                params={
                    "amount": minor_units(amount, currency),
                    "currency": currency.lower(),
                    "customer": customer_id,
                    "payment_method": pm_id,
                    "off_session": True,
                    "confirm": True,
                    "description": description,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            error = exc.error
            return ChargeResult(
                "failed",
                reference=getattr(getattr(error, "payment_intent", None), "id", "") or "",
                code=(error.decline_code or error.code or "card_declined") if error else "card_declined",
                message=exc.user_message or "The card was declined.",
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            return ChargeResult(
                "error", code="gateway_unavailable", message=str(exc.user_message or exc)[:300]
            )
        except stripe.StripeError as exc:
            return ChargeResult(
                "failed", code=exc.code or "stripe_error", message=str(exc.user_message or exc)[:300]
            )
        if intent.status == "succeeded":
            return ChargeResult("succeeded", reference=intent.id)
        if intent.status in ("processing",):
            return ChargeResult(
                "error", reference=intent.id, code="processing", message="The payment is still processing."
            )
        return ChargeResult(
            "failed",
            reference=intent.id,
            code=intent.status,
            message=f"Payment needs action ({intent.status}).",
        )

    def refund(self, *, charge_reference: str, amount, currency, idempotency_key) -> RefundResult:
        """Refund a PaymentIntent in full (`charge_reference` is its pi_... id)."""
        try:
            refund = self.client().v1.refunds.create(
                params={"payment_intent": charge_reference, "amount": minor_units(amount, currency)},
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            return RefundResult("failed", message=str(exc.user_message or exc)[:300])
        if refund.status in ("failed", "canceled"):
            return RefundResult("failed", reference=refund.id, message=f"Refund {refund.status}.")
        return RefundResult("succeeded", reference=refund.id)


class StripeCardSetup:
    """Saving a card for later off-session charges: a Stripe customer, a SetupIntent the browser
    confirms with Stripe.js, then the resulting PaymentMethod. Raises stripe.StripeError."""

    def __init__(self, gateway: StripeGateway | None = None):
        self.gateway = gateway or StripeGateway()

    def customer_create(self, *, email: str) -> str:
        return self.gateway.client().v1.customers.create(params={"email": email}).id

    def setup_intent_create(self, *, customer_id: str) -> str:
        intent = self.gateway.client().v1.setup_intents.create(
            params={"customer": customer_id, "usage": "off_session"}
        )
        return intent.client_secret

    def payment_method_retrieve(self, payment_method_id: str) -> stripe.PaymentMethod:
        return self.gateway.client().v1.payment_methods.retrieve(payment_method_id)
