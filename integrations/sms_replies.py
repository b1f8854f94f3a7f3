"""SMS replies from customers, whichever SMS provider carried them (Postscript, Twilio): SKIP
skips the next order of the customer's most recent ACTIVE subscription, DELAY moves it by the
integration's `delay_days` (default 7), DELAY 14 by 14 days (1-60).

Each provider's hook checks its own signature and then calls `sms_reply_handle`, which acts once
per (shop, provider, message id) - providers retry - and keeps the outcome on the
`InboundMessage`. Changes are recorded with the actor `integration:<provider>`.
"""

import datetime as dt
import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import InboundMessage, Integration
from integrations.phones import phone_e164
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Customer, Shop, Subscription
from subscriptions.selectors import effective_next_order_date

log = logging.getLogger(__name__)

DEFAULT_DELAY_DAYS = 7
DELAY_RANGE = range(1, 61)

QUIET_HOURS_END = dt.time(11, 0)  # texts may go out from 11:00...
QUIET_HOURS_START = dt.time(21, 0)  # ...until 21:00, shop-local


def quiet_hours_until(shop: Shop, now: dt.datetime | None = None) -> dt.datetime | None:
    """None while texts may go out (11:00-21:00 shop-local); otherwise the next 11:00."""
    local = (now or timezone.now()).astimezone(shop.tz)
    if QUIET_HOURS_END <= local.time() < QUIET_HOURS_START:
        return None
    day = local.date() if local.time() < QUIET_HOURS_END else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_HOURS_END, tzinfo=shop.tz)


_KEYWORD = re.compile(r"^(SKIP|DELAY)(\d+)?$")


def keyword_parse(body: str) -> tuple[str, int | None] | None:
    """ "skip", " Skip ", "DELAY", "delay 14" -> (keyword, days or None); anything else -> None.
    Case and spaces do not matter; a trailing full stop or exclamation mark is forgiven."""
    text = re.sub(r"\s+", "", body or "").upper().rstrip(".!")
    match = _KEYWORD.match(text)
    if match is None or (match.group(1) == "SKIP" and match.group(2)):
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def subscription_for_phone(*, shop: Shop, phone: str) -> tuple[Customer | None, Subscription | None]:
    """The customer whose phone is this number (compared as E.164) and their most recent ACTIVE
    subscription. Stored phones are free text, so candidates are narrowed on the last digits and
    compared normalised."""
    wanted = phone_e164(phone)
    if not wanted:
        return None, None
    candidates = Customer.objects.filter(shop=shop, phone__contains=wanted[-4:]).order_by("-pk")
    customers = [c for c in candidates if phone_e164(c.phone) == wanted]
    if not customers:
        return None, None
    subscription = (
        Subscription.objects.filter(shop=shop, customer__in=customers, status=Subscription.Status.ACTIVE)
        .select_related("customer")
        .order_by("-created_at", "-pk")
        .first()
    )
    return (subscription.customer if subscription else customers[0]), subscription


def default_delay_days(integration: Integration) -> int:
    try:
        days = int((integration.config or {}).get("delay_days") or DEFAULT_DELAY_DAYS)
    except (TypeError, ValueError):
        return DEFAULT_DELAY_DAYS
    return days if days in DELAY_RANGE else DEFAULT_DELAY_DAYS


def _skip(subscription: Subscription, days: int | None, integration: Integration, actor: Actor) -> str:
    services.subscription_skip(subscription=subscription, actor=actor)
    subscription.refresh_from_db()
    return f"Skipped the next order of subscription {subscription.pk}; next order {effective_next_order_date(subscription)}."


def _delay(subscription: Subscription, days: int | None, integration: Integration, actor: Actor) -> str:
    if days is None:
        days = default_delay_days(integration)
    current = effective_next_order_date(subscription)
    if current is None:
        raise DomainError("no_next_order", "The subscription has no next order to delay.")
    new_date = current + dt.timedelta(days=days)
    services.subscription_set_next_billing_date(subscription=subscription, actor=actor, date=new_date)
    return f"Delayed subscription {subscription.pk} by {days} days: next order {current} -> {new_date}."


ACTIONS = {"SKIP": _skip, "DELAY": _delay}


@transaction.atomic
def sms_reply_handle(*, integration: Integration, message_id: str, from_number: str, body: str) -> str:
    """Act on one SMS reply, once per provider message id: a replay changes nothing. The outcome,
    acted on or not, is kept on the `InboundMessage`; the customer hears back through the
    notices the resulting event starts."""
    shop, provider = integration.shop, integration.partner
    try:
        with transaction.atomic():
            claim = InboundMessage.objects.create(shop=shop, partner=provider, message_id=message_id)
    except IntegrityError:
        seen = InboundMessage.objects.get(shop=shop, partner=provider, message_id=message_id)
        return f"Already handled: {seen.outcome}"
    outcome = _reply_outcome(integration=integration, from_number=from_number, body=body)
    claim.outcome = outcome[:500]
    claim.save(update_fields=["outcome"])
    log.info("%s reply %s for shop %s: %s", provider, message_id, shop.pk, outcome)
    return outcome


def _reply_outcome(*, integration: Integration, from_number: str, body: str) -> str:
    keyword = keyword_parse(body)
    if keyword is None:
        return f"Ignored: no keyword in {body[:40]!r}."
    word, days = keyword
    if days is not None and days not in DELAY_RANGE:
        return f"Refused: DELAY takes 1 to 60 days, not {days}."
    customer, subscription = subscription_for_phone(shop=integration.shop, phone=from_number)
    if customer is None:
        return f"Ignored {word}: no customer has the phone number {phone_e164(from_number) or from_number!r}."
    if subscription is None:
        return f"Ignored {word}: customer {customer.pk} has no ACTIVE subscription."
    try:
        with transaction.atomic():
            return ACTIONS[word](subscription, days, integration, Actor.integration(integration.partner))
    except DomainError as exc:
        return f"Refused {word} for subscription {subscription.pk}: {exc.message}"
