"""Payment gateways behind one interface.

`charge()` takes an idempotency key: the same key always gets the first answer and never charges
twice, which is what makes a retried or concurrent billing run safe.

The built-in test gateway is deterministic by token, for demos and tests:
  tok_success / anything else      -> succeeds
  tok_declined                     -> card_declined
  tok_insufficient_funds           -> insufficient_funds
  tok_network_error                -> the gateway cannot be reached (outcome unknown: retry later)
  tok_fail_once                    -> declined on the first key, succeeds on later ones (dunning demos)

`refund()` gives a succeeded charge back in full (a checkout whose order could not be saved after
its payment went through); it is idempotent by key too.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import IntegrityError, transaction

from subscriptions.models import PaymentMethod, SandboxCharge


@dataclass
class ChargeResult:
    """`status`: succeeded | failed (the customer's payment was refused) | error (unknown outcome)."""

    status: str
    reference: str = ""
    code: str = ""
    message: str = ""


@dataclass
class RefundResult:
    """`status`: succeeded | failed (the refund itself was refused or could not be sent)."""

    status: str
    reference: str = ""
    message: str = ""


class Gateway(Protocol):
    name: str

    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> RefundResult: ...

    def charge(
        self,
        *,
        payment_method: PaymentMethod,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        description: str,
    ) -> ChargeResult: ...


class SandboxGateway:
    name = "test"
    OUTCOMES = {
        "tok_declined": ("failed", "card_declined", "The card was declined."),
        "tok_insufficient_funds": ("failed", "insufficient_funds", "The card has insufficient funds."),
    }

    def charge(self, *, payment_method, amount, currency, idempotency_key, description):
        token = payment_method.token
        if token == "tok_network_error":
            return ChargeResult(
                "error", code="network_error", message="The test gateway could not be reached."
            )
        existing = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return self._result(existing)
        status, code, _ = self.OUTCOMES.get(token, ("succeeded", "", ""))
        if token == "tok_fail_once" and idempotency_key.endswith("-1"):
            status, code = "failed", "card_declined"
        try:
            with transaction.atomic():
                row = SandboxCharge.objects.create(
                    idempotency_key=idempotency_key,
                    token=token,
                    amount=amount,
                    currency=currency,
                    outcome=status if status == "succeeded" else code,
                    reference="ch_test_" + secrets.token_hex(8),
                )
        except IntegrityError:  # a concurrent request with the same key won: answer as it did
            row = SandboxCharge.objects.get(idempotency_key=idempotency_key)
        return self._result(row)

    def refund(self, *, charge_reference, amount, currency, idempotency_key):
        # The sandbox's record is written in the caller's transaction: a charge rolled back with it
        # is already gone, which is a refund too.
        SandboxCharge.objects.filter(reference=charge_reference, outcome="succeeded").update(
            outcome="refunded"
        )
        return RefundResult("succeeded", reference="re_test_" + secrets.token_hex(8))

    @classmethod
    def _result(cls, row: SandboxCharge) -> ChargeResult:
        if row.outcome == "succeeded":
            return ChargeResult("succeeded", reference=row.reference)
        _, code, message = cls.OUTCOMES.get(row.token, ("failed", row.outcome, "The card was declined."))
        return ChargeResult("failed", reference=row.reference, code=row.outcome, message=message)


_GATEWAYS: dict[str, Gateway] = {"test": SandboxGateway()}
# Per-shop gateways (a shop's own Stripe account, connected under Integrations): asked first, in
# order; None means "not mine", and the platform-wide gateway of the method's kind answers.
_RESOLVERS: list[Callable[[PaymentMethod], Gateway | None]] = []


def register_gateway_resolver(resolver: Callable[[PaymentMethod], Gateway | None]) -> None:
    """Registered by apps that connect shops to a gateway, so this app never imports them."""
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def gateway_for(payment_method: PaymentMethod) -> Gateway:
    for resolver in _RESOLVERS:
        found = resolver(payment_method)
        if found is not None:
            return found
    if payment_method.gateway == "stripe":
        from subscriptions.adapters.stripe import StripeGateway

        return _GATEWAYS.setdefault("stripe", StripeGateway())
    return _GATEWAYS[payment_method.gateway]
