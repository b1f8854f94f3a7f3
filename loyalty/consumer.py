"""Loyalty's consumer of subscription events, registered with the webhooks engine at start-up.

The engine creates one delivery per interesting event (of shops whose program is enabled) and
calls `send` in-process; a failure is retried like any delivery, and the handler is idempotent on
the event id, so a replayed delivery earns nothing twice.
"""

import logging

from webhooks.engine import Destination, SendResult, register_destination
from webhooks.models import Delivery, OutboxEvent

log = logging.getLogger(__name__)

KIND = "consumer:loyalty"
TARGET = "loyalty"
EVENT_TYPES = ("subscription.created", "subscription.transaction_succeeded")


def _targets(events: list[OutboxEvent]) -> dict[object, list[str]]:
    from loyalty.models import LoyaltyProgram

    interesting = [e for e in events if e.type in EVENT_TYPES]
    if not interesting:
        return {}
    enabled = set(
        LoyaltyProgram.objects.filter(enabled=True, shop_id__in={e.shop_id for e in interesting}).values_list(
            "shop_id", flat=True
        )
    )
    return {e.pk: [TARGET] for e in interesting if e.shop_id in enabled}


def _send(delivery: Delivery, event: OutboxEvent) -> SendResult:
    from loyalty.services import event_handle

    try:
        event_handle(event_id=str(event.pk), type=event.type, data=event.payload.get("data") or {})
    except Exception as exc:
        log.exception("loyalty could not handle event %s", event.pk)
        return SendResult("retry", error=f"{exc.__class__.__name__}: {exc}"[:500])
    return SendResult("delivered")


def customer_facts(shop_id: int, customer_id) -> dict:
    """What partner profiles (Klaviyo) show about the customer's loyalty."""
    from loyalty.models import CustomerBalance, ReferralCode

    points = (
        CustomerBalance.objects.filter(shop_id=shop_id, customer_id=customer_id)
        .values_list("points", flat=True)
        .first()
    )
    code = (
        ReferralCode.objects.filter(shop_id=shop_id, customer_id=customer_id)
        .values_list("code", flat=True)
        .first()
    )
    facts: dict = {}
    if points is not None:
        facts["loyalty_points_balance"] = points
    if code is not None:
        facts["referral_code"] = code
    return facts


def register() -> None:
    from webhooks.registry import register_customer_facts

    register_destination(Destination(kind=KIND, targets=_targets, send=_send))
    register_customer_facts(customer_facts)
