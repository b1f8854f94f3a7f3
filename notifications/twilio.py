"""Twilio SMS: native texts for shops without Postscript or Attentive, and SKIP / DELAY replies.

Registered as a partner of the integrations registry, so it is one more destination of the
delivery engine (retries, delivery log, "needs attention" on 401) with its credentials (account
SID + auth token) encrypted at rest. Texts go out with `POST /2010-04-01/Accounts/{AccountSid}/
Messages.json` (HTTP basic auth, form-encoded `To`, `From` or `MessagingServiceSid`, `Body`); Twilio
answers 201 with the message resource, or an error `{"code", "message", "more_info", "status"}`.

Quiet hours are on unless the merchant turns them off: a text that comes up at night waits,
without counting as an attempt, until 11:00 shop-local. Customers who unsubscribed get only the
failed-payment text; Twilio itself handles STOP (error 21610 afterwards: the delivery fails).

Replies: the merchant sets the number's "A message comes in" webhook to
`<SITE_URL>/hooks/twilio/<token>/` (shown on the integration). Twilio signs each request with
`X-Twilio-Signature` (see `signature`); the words are handled by `integrations.sms_replies`.
"""

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from integrations.models import Integration
from integrations.partner_http import answer_json, ok, request
from integrations.partners import Partner, PartnerError, classify, register_partner
from integrations.phones import phone_e164
from integrations.sms_replies import DEFAULT_DELAY_DAYS, default_delay_days, quiet_hours_until
from notifications.rendering import notice_context, render_source
from notifications.services import is_unsubscribed
from subscriptions.models import Shop
from webhooks.engine import SendResult
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

KEY = "twilio"
API = "https://api.twilio.com/2010-04-01"
NOT_SENT = "not sent: "

# Our event type -> what the text says (Django template, rendered like the emails).
TEXTS: dict[str, str] = {
    "subscription.upcoming_order": (
        "{{ shop_name }}: hi {{ first_name }}, your next order is on {{ next_order_date }}. "
        "Reply SKIP to skip it, or DELAY to move it by {{ delay_days }} days (DELAY 14: 14 days)."
    ),
    "subscription.skipped": (
        "{{ shop_name }}: your {{ skipped_date }} order is skipped. Next order: {{ next_order_date }}."
    ),
    "subscription.next_order_date_changed": (
        "{{ shop_name }}: your next order is now on {{ next_order_date }}."
    ),
    "subscription.transaction_failed": (
        "{{ shop_name }}: we could not charge your card for your subscription order. "
        "Please update your payment method: {{ update_payment_link }}"
    ),
}
EVENTS = {
    "subscription.upcoming_order": "Upcoming order (reply SKIP or DELAY)",
    "subscription.skipped": "Skip confirmation",
    "subscription.next_order_date_changed": "Delay confirmation (next order date changed)",
    "subscription.transaction_failed": "Failed payment",
}
TRANSACTIONAL = frozenset({"subscription.transaction_failed"})


def messages_url(account_sid: str) -> str:
    return f"{API}/Accounts/{account_sid}/Messages.json"


def _auth_headers(integration: Integration) -> dict[str, str]:
    credentials = integration.credentials
    pair = f"{credentials['account_sid']}:{credentials['auth_token']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode(), "Accept": "application/json"}


def text_for(integration: Integration, event: OutboxEvent, shop: Shop) -> str:
    data = (event.payload or {}).get("data") or {}
    context = notice_context(data=data, shop_name=shop.name, date_format=shop.date_format)
    context["delay_days"] = default_delay_days(integration)
    return " ".join(render_source(TEXTS[event.type], context, html=False).split())


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    data = (event.payload or {}).get("data") or {}
    customer = data.get("customer") or {}
    to = phone_e164(customer.get("phone"))
    if not to:
        return HttpResult(None, "", {}, 0, NOT_SENT + "the customer has no usable phone number")
    if event.type not in TRANSACTIONAL and is_unsubscribed(
        shop_id=integration.shop_id, email=customer.get("email") or ""
    ):
        return HttpResult(None, "", {}, 0, NOT_SENT + "the customer unsubscribed from optional notices")
    sender = (integration.config or {}).get("from_number", "").strip()
    form = {"To": to, "Body": text_for(integration, event, integration.shop)}
    form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
    headers = {**_auth_headers(integration), "Content-Type": "application/x-www-form-urlencoded"}
    return request(
        "POST",
        messages_url(integration.credentials["account_sid"]),
        headers=headers,
        body=urlencode(form).encode(),
    )


def classify_answer(result: HttpResult) -> SendResult:
    """Twilio's answers as for every partner (201 sent, 401 needs attention, 429 later, 400 with
    an error code fails: a bad number or an opted-out customer will not get better); a text we
    chose not to send fails with the reason, without calling Twilio."""
    if result.status_code is None and result.error.startswith(NOT_SENT):
        return SendResult("fail", error=result.error)
    outcome = classify(result)
    answer = answer_json(result) or {}
    if outcome.outcome != "delivered" and answer.get("code"):
        outcome.error = f"Twilio error {answer.get('code')}: {answer.get('message', '')}"[:500]
    return outcome


def quiet_hours_on(integration: Integration) -> bool:
    value = (integration.config or {}).get("quiet_hours", True)
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


def defer_until(integration: Integration, event: OutboxEvent) -> dt.datetime | None:
    if not quiet_hours_on(integration):
        return None
    return quiet_hours_until(integration.shop)


# ---------------------------------------------------------------- connect


def inbound_url(integration: Integration) -> str:
    return settings.SITE_URL + reverse(
        "twilio-inbound", kwargs={"token": integration.config["inbound_token"]}
    )


def connect(integration: Integration) -> None:
    """Check the SID's shape and the pair with `GET /Accounts/{AccountSid}.json`."""
    sid = integration.credentials.get("account_sid", "")
    if not (sid.startswith("AC") and len(sid) == 34):
        raise PartnerError("the account SID starts with AC and has 34 characters", field="account_sid")
    sender = (integration.config or {}).get("from_number", "").strip()
    if not (phone_e164(sender) == sender or (sender.startswith("MG") and len(sender) == 34)):
        raise PartnerError(
            "the sender is a Twilio number in E.164 form (+15551234567) or a messaging service SID (MG...)",
            field="from_number",
        )
    result = request("GET", f"{API}/Accounts/{sid}.json", headers=_auth_headers(integration))
    if result.status_code in (401, 403):
        raise PartnerError("the account SID and auth token were not accepted", field="auth_token")
    if not ok(result):
        reason = (answer_json(result) or {}).get("message") or result.error or f"HTTP {result.status_code}"
        raise PartnerError(f"Twilio could not be reached or refused the check: {reason}")
    config = {"delay_days": DEFAULT_DELAY_DAYS, **(integration.config or {})}
    if config.get("quiet_hours") in (None, ""):
        config["quiet_hours"] = True
    config.setdefault("inbound_token", secrets.token_urlsafe(18))
    integration.config = config


# ---------------------------------------------------------------- inbound signature


def signature(auth_token: str, url: str, params: dict[str, str | list[str]]) -> str:
    """Twilio's request signature: base64 HMAC-SHA1, keyed with the auth token, of the full URL
    followed by every POST parameter, sorted by name, as name + value with no separators."""
    payload = url
    for name in sorted(params):
        values = params[name] if isinstance(params[name], list) else [params[name]]
        for value in sorted(values):
            payload += name + value
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(auth_token: str, url: str, params: dict, presented: str | None) -> bool:
    if not auth_token or not presented:
        return False
    return hmac.compare_digest(signature(auth_token, url, params), presented.strip())


def integration_for_token(token: str) -> Integration | None:
    return Integration.live(KEY, inbound_token=token)


register_partner(
    Partner(
        key=KEY,
        name="Twilio SMS",
        events=EVENTS,
        send=send,
        connect=connect,
        classify=classify_answer,
        defer_until=defer_until,
        credential_fields=("account_sid", "auth_token"),
        config_fields=("from_number", "delay_days", "quiet_hours"),
        description=(
            "Texts customers from your own Twilio number: upcoming orders (reply SKIP or DELAY), "
            "skip and delay confirmations, failed payments. Quiet hours 21:00-11:00 shop-local."
        ),
        extra={
            "credential_labels": {"account_sid": "Account SID", "auth_token": "Auth token"},
            "inbound_url": inbound_url,
        },
    )
)
