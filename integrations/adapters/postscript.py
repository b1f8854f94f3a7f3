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
import secrets
from typing import Any

from django.conf import settings
from django.urls import reverse

from integrations.models import Integration
from integrations.partner_http import answer_json, json_body, ok, request
from integrations.partners import Partner, PartnerError, register_partner
from integrations.phones import phone_e164
from integrations.sms_replies import DEFAULT_DELAY_DAYS, quiet_hours_until, sms_reply_handle
from subscriptions.actors import Actor
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
    return quiet_hours_until(integration.shop)


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


def integration_for_token(token: str) -> Integration | None:
    return Integration.live(KEY, inbound_token=token)


def postscript_reply_handle(*, integration: Integration, message_id: str, from_number: str, body: str) -> str:
    """SKIP / DELAY [N], shared with every SMS provider (integrations.sms_replies)."""
    return sms_reply_handle(
        integration=integration, message_id=message_id, from_number=from_number, body=body
    )


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
