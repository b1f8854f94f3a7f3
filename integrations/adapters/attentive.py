"""Attentive: subscription events as custom events that start Attentive journeys, and custom
attributes on the subscriber kept current after each one.

Connection is OAuth: the merchant is sent to Attentive's install page with a signed `state`,
approves, and comes back to our callback with a `code`, which is exchanged for an access token.
The exchange itself proves the token, so `connect` only checks one is there; reconnecting (a new
install after a 401) goes through `integration_connect` like every partner and releases held
deliveries.
"""

import datetime as dt
import logging
import secrets
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from integrations.models import Integration
from integrations.partner_http import answer_json, json_body, ok, request
from integrations.partners import Partner, PartnerError, register_partner
from integrations.phones import phone_e164
from subscriptions.models import Shop, Subscription
from subscriptions.selectors import effective_next_order_date
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

log = logging.getLogger(__name__)

KEY = "attentive"
API = "https://api.attentivemobile.com/v1"
EVENTS_URL = f"{API}/events/custom"
ATTRIBUTES_URL = f"{API}/attributes/custom"
TOKEN_URL = f"{API}/authorization-codes/tokens"
STATE_SALT = "integrations.attentive.oauth-state"
STATE_MAX_AGE = dt.timedelta(minutes=10)
SESSION_NONCE = "attentive_oauth_nonce"

# Our event type -> the custom event type merchants pick as a journey trigger (the seed's names).
EVENTS: dict[str, str] = {
    "subscription.created": "Subscription Created",
    "subscription.upcoming_order": "Upcoming Subscription Order",
    "subscription.transaction_failed": "Failed Subscription Payment",
    "subscription.skipped": "Subscription Skipped",
    "subscription.unskipped": "Subscription Unskipped",
    "subscription.canceled": "Subscription Canceled",
    "subscription.paused": "Subscription Paused",
    "subscription.activated": "Subscription Activated",
    "subscription.payment_method_updated": "Payment Method Updated",
}


# ---------------------------------------------------------------- the wire


def _headers(access_token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {access_token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def user_of(data: dict) -> dict[str, str]:
    """Who the event is about, as Attentive identifies a subscriber (phone first, then email)."""
    customer = data.get("customer") or {}
    user = {}
    phone = phone_e164(customer.get("phone"))
    if phone:
        user["phone"] = phone
    if customer.get("email"):
        user["email"] = customer["email"]
    return user


def event_properties(data: dict) -> dict[str, str]:
    """Flat string properties for journey copy: the template fields of the seed plus the
    subscription's own facts. Items become one line of text (Attentive takes no arrays)."""
    subscription = data.get("subscription") or {}
    items = subscription.get("items") or []
    properties = {
        "first_name": data.get("first_name"),
        "account_page_link": data.get("account_page_link"),
        "next_order_date": data.get("next_order_date"),
        "new_delivery_date": data.get("new_delivery_date"),
        "frequency_unit": data.get("frequency_unit"),
        "frequency_interval": data.get("frequency_interval"),
        "subscription_id": subscription.get("id"),
        "subscription_status": subscription.get("status"),
        "plan": subscription.get("plan"),
        "products": ", ".join(
            f"{item.get('quantity')} x {item.get('product')}"
            + (f" ({item['variant']})" if item.get("variant") else "")
            for item in items
        ),
    }
    for name in ("skipped_date", "unskipped_date", "cancel_reason", "auto_resume_date", "days_until_order"):
        if data.get(name) not in (None, ""):
            properties[name] = data[name]
    return {name: _text(value) for name, value in properties.items()}


def event_body(event: OutboxEvent, delivery: Delivery) -> dict:
    data = event.payload["data"]
    return {
        "type": EVENTS[event.type],
        "properties": event_properties(data),
        "user": user_of(data),
        "externalEventId": str(delivery.pk),
        "occurredAt": event.occurred_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def subscriber_attributes(*, shop: Shop, data: dict) -> dict[str, str]:
    """The subscriber's state now (not as the event saw it: a retry hours later must not write an
    old status back): this subscription's status and next order date, and how many are active."""
    customer_id = (data.get("customer") or {}).get("id")
    subscription_id = (data.get("subscription") or {}).get("id")
    subscription = (
        Subscription.objects.filter(shop=shop, pk=subscription_id).first() if subscription_id else None
    )
    attributes = {
        "Active Subscriptions": str(
            Subscription.objects.filter(
                shop=shop, customer_id=customer_id, status=Subscription.Status.ACTIVE
            ).count()
        )
    }
    if subscription is not None:
        next_date = (
            effective_next_order_date(subscription)
            if subscription.status == Subscription.Status.ACTIVE
            else None
        )
        attributes["Subscription Status"] = subscription.get_status_display()
        attributes["Next Order Date"] = next_date.strftime(shop.date_format) if next_date else ""
    return attributes


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    """The custom event, then the subscriber's attributes. A retry sends the event again with the
    same `externalEventId` (the delivery id), which Attentive uses to drop duplicates."""
    headers = _headers(integration.credentials["access_token"])
    data = event.payload["data"]
    sent = request("POST", EVENTS_URL, headers=headers, body=json_body(event_body(event, delivery)))
    if not ok(sent):
        return sent
    attributes = {
        "properties": subscriber_attributes(shop=integration.shop, data=data),
        "user": user_of(data),
    }
    updated = request("POST", ATTRIBUTES_URL, headers=headers, body=json_body(attributes))
    if ok(updated):
        return sent
    if (
        updated.status_code is None
        or updated.status_code in (401, 403, 408, 429)
        or updated.status_code >= 500
    ):
        return updated  # try again (or hold for new credentials) like any other answer
    # Refused attributes are not worth losing the event over; the next event writes them again.
    log.warning(
        "Attentive refused the attributes of delivery %s: %s %s",
        delivery.pk,
        updated.status_code,
        updated.body_excerpt[:200],
    )
    return sent


# ---------------------------------------------------------------- OAuth


def redirect_uri() -> str:
    return settings.SITE_URL + reverse("hooks:attentive-oauth-callback")


def authorize_url(*, shop: Shop, user_id: int, session) -> str:
    """Where to send the merchant to install the app. The `state` is signed (shop, staff user and
    a nonce kept in the session), so the callback knows which shop asked and that it was us."""
    nonce = secrets.token_urlsafe(16)
    session[SESSION_NONCE] = nonce
    state = signing.dumps({"shop": shop.pk, "user": user_id, "nonce": nonce}, salt=STATE_SALT)
    query = urlencode(
        {
            "client_id": settings.ATTENTIVE_CLIENT_ID,
            "redirect_uri": redirect_uri(),
            "scope": settings.ATTENTIVE_SCOPES,
            "state": state,
        }
    )
    return f"{settings.ATTENTIVE_AUTHORIZE_URL}?{query}"


class BadState(Exception):
    """The callback's `state` is missing, tampered with, expired, or not this browser's."""


def state_check(state: str, *, user_id: int, session) -> Shop:
    try:
        payload = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise BadState("The Attentive sign-in took longer than 10 minutes; please start again.") from exc
    except signing.BadSignature as exc:
        raise BadState("The Attentive sign-in could not be verified; please start again.") from exc
    # One use only, and only in the browser of the staff user who started it.
    expected = session.pop(SESSION_NONCE, None)
    if (
        not isinstance(payload, dict)
        or payload.get("user") != user_id
        or not expected
        or not secrets.compare_digest(str(payload.get("nonce", "")), expected)
    ):
        raise BadState("This Attentive sign-in was started elsewhere; please start again.")
    shop = Shop.objects.filter(pk=payload.get("shop")).first()
    if shop is None:
        raise BadState("The shop of this Attentive sign-in no longer exists.")
    return shop


def code_exchange(code: str) -> str:
    """Trade the authorization code for an access token (form-encoded, as OAuth wants)."""
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "client_id": settings.ATTENTIVE_CLIENT_ID,
            "client_secret": settings.ATTENTIVE_CLIENT_SECRET,
        }
    ).encode()
    result = request(
        "POST",
        TOKEN_URL,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body=body,
    )
    if result.status_code is None:
        raise PartnerError(f"Attentive could not be reached ({result.error})")
    answer = answer_json(result) or {}
    token = answer.get("access_token")
    if not ok(result) or not token:
        reason = answer.get("error_description") or answer.get("error") or f"HTTP {result.status_code}"
        raise PartnerError(f"Attentive did not accept the sign-in ({reason})", status=result.status_code)
    return str(token)


def connect(integration: Integration) -> None:
    """The token comes straight from Attentive's code exchange, which is the real check."""
    if not str(integration.credentials.get("access_token") or "").strip():
        raise PartnerError("sign in with Attentive to connect", field="access_token")


register_partner(
    Partner(
        key=KEY,
        name="Attentive",
        events=EVENTS,
        send=send,
        connect=connect,
        credential_fields=("access_token",),
        description=(
            "Subscription events as Attentive custom events (journey triggers), with the subscriber's "
            "subscription status, next order date and number of active subscriptions as custom "
            "attributes. Connect by signing in with Attentive."
        ),
        extra={"oauth_start": "hooks:attentive-oauth-start"},
    )
)
