"""Postscript: subscription events as custom events that start Postscript automations, and the
customer's SMS replies (SKIP, DELAY, DELAY 14) acted on.

The merchant pastes the shop's private key (`sk_...`). Connecting fetches the static token
Postscript signs its webhooks with (that call is also the key's check) and subscribes our
per-integration callback URL to incoming messages. Replies arrive at `/hooks/postscript/<token>/`
(`integrations.inbound`) and are run by `postscript_reply_handle`, once per message id.

Quiet hours (config `quiet_hours`): automations text the customer as soon as an event arrives, so
events are held until 11:00-21:00 in the shop's timezone (US "waking hours" for automations).
"""

import datetime as dt
import logging
import re
import secrets
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from integrations.models import InboundMessage, Integration
from integrations.partner_http import answer_json, json_body, ok, request
from integrations.partners import Partner, PartnerError, register_partner
from integrations.phones import phone_e164
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Customer, Shop, Subscription
from subscriptions.selectors import effective_next_order_date
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

log = logging.getLogger(__name__)

KEY = "postscript"
ACTOR = Actor.integration(KEY)
API = "https://api.postscript.io/api/v2"
EVENTS_URL = f"{API}/events"
WEBHOOKS_URL = f"{API}/webhooks"
WEBHOOK_TOKEN_URL = f"{API}/webhooks/token"
INCOMING_MESSAGE = "shop.incoming_message"

# Our event type -> the custom event type (Postscript allows letters, digits and underscores).
EVENTS: dict[str, str] = {
    "subscription.created": "subscription_created",
    "subscription.upcoming_order": "upcoming_order",
    "subscription.transaction_failed": "payment_method_failed",
    "subscription.skipped": "order_skipped",
    "subscription.payment_method_updated": "payment_method_updated",
    "customer.deactivated": "customer_deactivated",
}
# Every Postscript event starts an automation that texts the customer.
SMS_EVENTS = frozenset(EVENTS)

DEFAULT_DELAY_DAYS = 7
DELAY_RANGE = range(1, 61)
QUIET_HOURS_END = dt.time(11, 0)  # texts may go out from 11:00...
QUIET_HOURS_START = dt.time(21, 0)  # ...until 21:00, shop-local


# ---------------------------------------------------------------- the wire


def _headers(private_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {private_key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def _flat(value: Any) -> str | int | float | bool:
    return value if isinstance(value, str | int | float | bool) else ("" if value is None else str(value))


def event_properties(data: dict) -> dict[str, Any]:
    """Flat properties for the automation's dynamic tags (no nesting, no arrays)."""
    subscription = data.get("subscription") or {}
    items = subscription.get("items") or []
    properties: dict[str, Any] = {
        "first_name": data.get("first_name"),
        "account_page_link": data.get("account_page_link"),
    }
    if subscription:
        properties.update(
            {
                "next_order_date": data.get("next_order_date"),
                "new_delivery_date": data.get("new_delivery_date"),
                "frequency_unit": data.get("frequency_unit"),
                "frequency_interval": data.get("frequency_interval"),
                "subscription_id": str(subscription.get("id") or ""),
                "subscription_status": subscription.get("status"),
                "products": ", ".join(f"{i.get('quantity')} x {i.get('product')}" for i in items),
            }
        )
    for name in ("skipped_date", "days_until_order", "order_date", "retry_date"):
        if data.get(name) not in (None, ""):
            properties[name] = data[name]
    return {name: _flat(value) for name, value in properties.items()}


def event_body(event: OutboxEvent, delivery: Delivery) -> dict:
    data = event.payload["data"]
    customer = data.get("customer") or {}
    body: dict[str, Any] = {"type": EVENTS[event.type]}
    phone = phone_e164(customer.get("phone"))
    if phone:
        body["phone"] = phone
    else:
        body["email"] = customer.get("email") or ""
    occurred = event.occurred_at.astimezone(dt.UTC)
    body["occurred_at"] = occurred.strftime("%Y-%m-%d %H:%M:%S.%f")
    body["external_id"] = str(delivery.pk)
    body["properties"] = event_properties(data)
    return body


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    return request(
        "POST",
        EVENTS_URL,
        headers=_headers(integration.credentials["private_key"]),
        body=json_body(event_body(event, delivery)),
    )


def quiet_hours_on(integration: Integration) -> bool:
    """The `quiet_hours` setting, whether the console saved it as a boolean or as form text."""
    value = (integration.config or {}).get("quiet_hours")
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def defer_until(integration: Integration, event: OutboxEvent) -> dt.datetime | None:
    """With quiet hours on, a text-starting event waits for 11:00 shop-local (today or tomorrow)."""
    if not quiet_hours_on(integration) or event.type not in SMS_EVENTS:
        return None
    shop = integration.shop
    local = timezone.now().astimezone(shop.tz)
    if QUIET_HOURS_END <= local.time() < QUIET_HOURS_START:
        return None
    day = local.date() if local.time() < QUIET_HOURS_END else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_HOURS_END, tzinfo=shop.tz)


# ---------------------------------------------------------------- connect


def callback_url(integration: Integration) -> str:
    token = integration.config["inbound_token"]
    return settings.SITE_URL + reverse("hooks:postscript-inbound", kwargs={"token": token})


def _refused(result: HttpResult, doing: str) -> PartnerError:
    if result.status_code is None:
        return PartnerError(f"Postscript could not be reached while {doing} ({result.error})")
    if result.status_code in (401, 403):
        return PartnerError(
            "the private key was not accepted", field="private_key", status=result.status_code
        )
    answer = answer_json(result) or {}
    reason = answer.get("error_message") or f"HTTP {result.status_code}"
    return PartnerError(f"Postscript refused {doing}: {reason}", status=result.status_code)


def _webhook_token(answer: dict) -> str:
    for name in ("token", "webhook_token", "signature_token"):
        if answer.get(name):
            return str(answer[name])
    return ""


def connect(integration: Integration) -> None:
    """Fetch the webhook signature token (proves the key) and subscribe to incoming messages."""
    key = integration.credentials.get("private_key", "")
    if not key.startswith("sk_"):
        raise PartnerError(
            "the private key starts with sk_ (Settings > API in Postscript)", field="private_key"
        )
    result = request("GET", WEBHOOK_TOKEN_URL, headers=_headers(key))
    if not ok(result):
        raise _refused(result, "the webhook token request")
    token = _webhook_token(answer_json(result) or {})
    if not token:
        raise PartnerError("Postscript did not give a webhook signature token")
    integration.credentials = {**integration.credentials, "webhook_token": token}

    config = {"delay_days": DEFAULT_DELAY_DAYS, "quiet_hours": False, **(integration.config or {})}
    config.setdefault("inbound_token", secrets.token_urlsafe(18))
    integration.config = config
    url = callback_url(integration)
    # Reconnecting (a new key for the same Postscript shop) keeps the subscription already made.
    if config.get("webhook_callback_url") != url:
        body = json_body({"callback_url": url, "event": INCOMING_MESSAGE})
        subscribed = request("POST", WEBHOOKS_URL, headers=_headers(key), body=body)
        if not ok(subscribed):
            raise _refused(subscribed, "the subscription to SMS replies")
        answer = answer_json(subscribed) or {}
        webhook = answer.get("webhook") if isinstance(answer.get("webhook"), dict) else answer
        integration.config = {
            **config,
            "webhook_callback_url": url,
            "webhook_id": str(webhook.get("id") or ""),
        }


# ---------------------------------------------------------------- SMS replies (inbound)

_KEYWORD = re.compile(r"^(SKIP|DELAY)(\d+)?$")


def keyword_parse(body: str) -> tuple[str, int | None] | None:
    """ "skip", " Skip ", "DELAY", "delay 14" -> (keyword, days or None); anything else -> None.
    Case and spaces do not matter; a trailing full stop or exclamation mark is forgiven."""
    text = re.sub(r"\s+", "", body or "").upper().rstrip(".!")
    match = _KEYWORD.match(text)
    if match is None or (match.group(1) == "SKIP" and match.group(2)):
        return None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def integration_for_token(token: str) -> Integration | None:
    if not token:
        return None
    return (
        Integration.objects.select_related("shop")
        .filter(
            partner=KEY,
            state__in=(Integration.State.CONNECTED, Integration.State.NEEDS_ATTENTION),
            config__inbound_token=token,
        )
        .first()
    )


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


def _skip(subscription: Subscription, days: int | None, integration: Integration) -> str:
    services.subscription_skip(subscription=subscription, actor=ACTOR)
    subscription.refresh_from_db()
    return f"Skipped the next order of subscription {subscription.pk}; next order {effective_next_order_date(subscription)}."


def _delay(subscription: Subscription, days: int | None, integration: Integration) -> str:
    if days is None:
        days = _default_delay_days(integration)
    current = effective_next_order_date(subscription)
    if current is None:
        raise DomainError("no_next_order", "The subscription has no next order to delay.")
    new_date = current + dt.timedelta(days=days)
    services.subscription_set_next_billing_date(subscription=subscription, actor=ACTOR, date=new_date)
    return f"Delayed subscription {subscription.pk} by {days} days: next order {current} -> {new_date}."


def _default_delay_days(integration: Integration) -> int:
    try:
        days = int((integration.config or {}).get("delay_days") or DEFAULT_DELAY_DAYS)
    except (TypeError, ValueError):
        return DEFAULT_DELAY_DAYS
    return days if days in DELAY_RANGE else DEFAULT_DELAY_DAYS


ACTIONS = {"SKIP": _skip, "DELAY": _delay}


@transaction.atomic
def postscript_reply_handle(*, integration: Integration, message_id: str, from_number: str, body: str) -> str:
    """Act on one SMS reply, once per Postscript message id (Postscript retries for an hour): a
    replay changes nothing. The outcome, acted on or not, is kept on the `InboundMessage`; the
    customer hears back through the automations the resulting event starts."""
    shop = integration.shop
    try:
        with transaction.atomic():
            claim = InboundMessage.objects.create(shop=shop, partner=KEY, message_id=message_id)
    except IntegrityError:
        seen = InboundMessage.objects.get(shop=shop, partner=KEY, message_id=message_id)
        return f"Already handled: {seen.outcome}"
    outcome = _reply_outcome(integration=integration, from_number=from_number, body=body)
    claim.outcome = outcome[:500]
    claim.save(update_fields=["outcome"])
    log.info("Postscript reply %s for shop %s: %s", message_id, shop.pk, outcome)
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
            return ACTIONS[word](subscription, days, integration)
    except DomainError as exc:
        return f"Refused {word} for subscription {subscription.pk}: {exc.message}"


register_partner(
    Partner(
        key=KEY,
        name="Postscript",
        events=EVENTS,
        send=send,
        connect=connect,
        defer_until=defer_until,
        credential_fields=("private_key",),
        config_fields=("delay_days", "quiet_hours"),
        description=(
            "Subscription events as Postscript custom events (automation triggers), and SMS replies: "
            "SKIP skips the next order, DELAY moves it by the shop's default (7 days), DELAY 14 by 14."
        ),
    )
)
