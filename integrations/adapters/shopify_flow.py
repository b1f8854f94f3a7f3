"""Shopify Flow: subscription events become Flow triggers, and Flow's actions skip or pause.

Triggers go out through the Admin GraphQL API (`flowTriggerReceive(handle, payload)`) with the
shop's offline access token. A GraphQL answer is 200 even when it failed, so the answer is read
here: `userErrors` mean the trigger was refused (retrying will not help); a THROTTLED error means
try again once the shop's query budget has refilled.

Actions arrive as signed POSTs from Flow (see `integrations.hooks.shopify_flow`) and are run by
`flow_action_run`, once per `action_run_id`.
"""

import datetime as dt
import json
import math
import re
import time
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404

from integrations.models import InboundMessage, Integration
from integrations.partners import Partner, PartnerError, classify, register_partner
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Shop
from subscriptions.selectors import subscription_get
from webhooks import http
from webhooks.engine import SendResult
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

KEY = "shopify_flow"
ACTOR = Actor.integration(KEY)
TIMEOUT_SECONDS = 10.0
SHOP_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")

# Our event type -> the trigger's handle in the Flow app extension (at most 30 characters,
# lowercase and hyphens). The two payment triggers say "payment": "transaction" does not fit.
TRIGGERS: dict[str, str] = {
    "subscription.created": "subscription-created",
    "subscription.upcoming_order": "subscription-upcoming-order",
    "subscription.send_now": "subscription-send-now",
    "subscription.transaction_succeeded": "subscription-payment-succeeded",
    "subscription.transaction_failed": "subscription-payment-failed",
    "subscription.skipped": "subscription-skipped",
    "subscription.unskipped": "subscription-unskipped",
    "subscription.gifted": "subscription-gifted",
    "subscription.next_order_date_changed": "subscription-next-date-changed",
    "subscription.canceled": "subscription-canceled",
    "subscription.paused": "subscription-paused",
    "subscription.activated": "subscription-activated",
}

TRIGGER_MUTATION = (
    "mutation flowTriggerReceive($handle: String, $payload: JSON) {"
    " flowTriggerReceive(handle: $handle, payload: $payload) { userErrors { field message } } }"
)
SHOP_QUERY = "{ shop { name } }"


# ---------------------------------------------------------------- the wire


def graphql_url(shop_domain: str) -> str:
    return f"https://{shop_domain}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json"


def _headers(access_token: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Shopify-Access-Token": access_token,
    }


STORE_PARTNER = "shopify"


def store_credentials(integration: Integration) -> dict:
    """The domain and token Flow calls with: its own when entered, else those of the shop's Shopify
    store connection (one connection serves the catalogue, orders and Flow)."""
    own = integration.credentials or {}
    if own.get("shop_domain") and own.get("access_token"):
        return own
    store = (
        Integration.objects.filter(
            shop_id=integration.shop_id,
            partner=STORE_PARTNER,
            state__in=(Integration.State.CONNECTED, Integration.State.NEEDS_ATTENTION),
        )
        .only("credentials")
        .first()
    )
    creds = (store.credentials or {}) if store is not None else {}
    return {"shop_domain": creds.get("shop_domain", ""), "access_token": creds.get("access_token", "")}


def _post(integration: Integration, body: dict) -> HttpResult:
    """One GraphQL call through the platform's hardened `requests` session; network trouble is
    reported in the result, never raised."""
    creds = store_credentials(integration)
    if not creds.get("shop_domain") or not creds.get("access_token"):
        return HttpResult(401, "", {}, 0, "no Shopify store connection to call Flow with")
    started = time.perf_counter()
    try:
        response = http.session().post(
            graphql_url(creds["shop_domain"]),
            data=json.dumps(body, separators=(",", ":")).encode(),
            headers=_headers(creds["access_token"]),
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except (requests.RequestException, OSError, ValueError) as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return HttpResult(None, "", {}, elapsed, f"{exc.__class__.__name__}: {exc}"[:500])
    elapsed = int((time.perf_counter() - started) * 1000)
    return HttpResult(
        response.status_code,
        response.content[: http.MAX_RESPONSE_BYTES].decode("utf-8", "replace"),
        dict(response.headers),
        elapsed,
    )


def _json(result: HttpResult) -> dict | None:
    try:
        body = json.loads(result.body_excerpt)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _throttle_wait(body: dict) -> dt.timedelta:
    """How long until the shop's GraphQL budget covers the refused call again (at least 1 s)."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        missing = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        seconds = math.ceil(missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        seconds = 1
    return dt.timedelta(seconds=max(1, seconds))


def classify_answer(result: HttpResult) -> SendResult:
    """HTTP trouble as for every partner (401/403 hold, 429/5xx/network retry); a 200 is read:
    THROTTLED -> retry when the budget refills, other GraphQL errors or `userErrors` -> fail."""
    if result.status_code is None or not 200 <= result.status_code < 300:
        return classify(result)
    base = dict(status_code=result.status_code, excerpt=result.body_excerpt, duration_ms=result.duration_ms)
    body = _json(result)
    if body is None:
        return SendResult("retry", error="Shopify answered with something other than JSON", **base)
    errors = body.get("errors") or []
    if isinstance(errors, list) and errors:
        codes = {str(((e or {}).get("extensions") or {}).get("code") or "") for e in errors}
        message = "; ".join(str((e or {}).get("message") or "") for e in errors)[:500]
        if "THROTTLED" in codes:
            return SendResult(
                "retry", error=f"THROTTLED: {message}", retry_after=_throttle_wait(body), **base
            )
        return SendResult("fail", error=message or "Shopify refused the call", **base)
    if errors:  # a single error string
        return SendResult("fail", error=str(errors)[:500], **base)
    answer = ((body.get("data") or {}).get("flowTriggerReceive")) or {}
    user_errors = answer.get("userErrors") or []
    if user_errors:
        message = "; ".join(
            f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}".lstrip(": ")
            for e in user_errors
        )
        return SendResult("fail", error=f"Flow refused the trigger: {message}"[:500], **base)
    return SendResult("delivered", **base)


# ---------------------------------------------------------------- connect


def clean_shop_domain(value: str) -> str:
    domain = (value or "").strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not SHOP_DOMAIN.match(domain):
        raise PartnerError("the shop domain must look like your-shop.myshopify.com", field="shop_domain")
    return domain


def connect(integration: Integration) -> None:
    """Ask Shopify for the shop's name with the token: proves domain and token belong together.
    Without a domain and token of its own, Flow uses the shop's Shopify store connection."""
    own = integration.credentials or {}
    if not own.get("shop_domain") and not own.get("access_token"):
        borrowed = store_credentials(integration)
        if not borrowed.get("shop_domain"):
            raise PartnerError(
                "connect your Shopify store first (Integrations > Shopify), or enter the shop domain "
                "and access token here",
                field="shop_domain",
            )
        domain = borrowed["shop_domain"]
    else:
        domain = clean_shop_domain(own.get("shop_domain", ""))
        if not own.get("access_token"):
            raise PartnerError("enter the access token too", field="access_token")
        integration.credentials = {**own, "shop_domain": domain}
    result = _post(integration, {"query": SHOP_QUERY})
    if result.status_code is None:
        raise PartnerError(f"could not reach {domain} ({result.error})", field="shop_domain")
    if result.status_code == 401:
        raise PartnerError("the access token was not accepted", field="access_token", status=401)
    if result.status_code == 403:
        raise PartnerError(
            "the access token lacks the access scopes Flow needs", field="access_token", status=403
        )
    if result.status_code == 404:
        raise PartnerError(f"no shop answers at {domain}", field="shop_domain", status=404)
    if result.status_code != 200:
        raise PartnerError(
            f"Shopify answered {result.status_code}; try again in a minute", status=result.status_code
        )
    body = _json(result) or {}
    name = ((body.get("data") or {}).get("shop") or {}).get("name")
    if not name:
        errors = "; ".join(str((e or {}).get("message")) for e in body.get("errors") or [])
        raise PartnerError(errors or "Shopify did not answer with the shop's name", status=200)
    # The domain is not secret; kept in config too so inbound action calls can find the shop.
    integration.config = {**(integration.config or {}), "shop_domain": domain, "shop_name": name}


# ---------------------------------------------------------------- triggers


def _shopify_customer_id(customer: dict) -> int | str:
    """Flow references a customer by Shopify's numeric id; ours stands in when there is none."""
    external = str(customer.get("external_id") or "")
    number = external.rsplit("/", 1)[-1]  # "gid://shopify/Customer/123" or "123"
    if number.isdigit():
        return int(number)
    return customer.get("id")


def trigger_payload(event_type: str, data: dict) -> dict[str, Any]:
    """The flat payload of one trigger; its keys are the trigger's declared fields (README)."""
    customer = data.get("customer") or {}
    subscription = data.get("subscription") or {}
    previous = data.get("previous") or {}
    payload: dict[str, Any] = {
        "customer_id": _shopify_customer_id(customer),
        "subscription_id": str(subscription.get("id") or ""),
        "email": customer.get("email") or "",
        "first_name": data.get("first_name") or "",
        "subscription_status": subscription.get("status") or "",
        "next_order_date": data.get("next_order_date") or "",
        "account_page_link": data.get("account_page_link") or "",
    }
    order = data.get("order") or {}
    gift = data.get("gift") or {}
    extra: dict[str, Any] = {
        "subscription.upcoming_order": {
            "days_until_order": data.get("days_until_order"),
            "order_date": data.get("order_date") or "",
        },
        "subscription.transaction_succeeded": {
            "order_id": str(order.get("id") or ""),
            "order_total": str(order.get("total") or ""),
            "currency": order.get("currency") or "",
        },
        "subscription.transaction_failed": {
            "order_id": str(order.get("id") or ""),
            "failure_reason": data.get("failure_reason") or "",
            "retry_date": data.get("retry_date") or "",
        },
        "subscription.skipped": {"skipped_date": data.get("skipped_date") or ""},
        "subscription.unskipped": {"unskipped_date": data.get("unskipped_date") or ""},
        "subscription.gifted": {
            "gift_order_date": gift.get("billing_date") or "",
            "gift_recipient_first_name": gift.get("recipient_first_name") or "",
            "gift_recipient_email": gift.get("recipient_email") or "",
        },
        "subscription.next_order_date_changed": {
            "previous_next_order_date": previous.get("next_billing_date") or "",
        },
        "subscription.canceled": {"cancel_reason": data.get("cancel_reason") or ""},
        "subscription.paused": {"auto_resume_date": data.get("auto_resume_date") or ""},
    }.get(event_type, {})
    payload.update(extra)
    return payload


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    variables = {
        "handle": TRIGGERS[event.type],
        "payload": trigger_payload(event.type, event.payload["data"]),
    }
    return _post(integration, {"query": TRIGGER_MUTATION, "variables": variables})


# ---------------------------------------------------------------- actions (inbound)


def integration_for_domain(shopify_domain: str) -> Integration | None:
    """The connected Flow integration of the shop with this myshopify domain."""
    return Integration.live(KEY, shop_domain=(shopify_domain or "").strip().lower())


def _skip_next_order(*, shop: Shop, properties: dict) -> str:
    subscription = subscription_get(shop=shop, subscription_id=properties["subscription_id"])
    services.subscription_skip(subscription=subscription, actor=ACTOR)
    return f"Skipped the next order of subscription {subscription.pk}."


def _pause_subscription(*, shop: Shop, properties: dict) -> str:
    subscription = subscription_get(shop=shop, subscription_id=properties["subscription_id"])
    resume_on = properties.get("resume_date")
    services.subscription_pause(subscription=subscription, actor=ACTOR, resume_on=resume_on)
    until = f" until {resume_on.isoformat()}" if resume_on else ""
    return f"Paused subscription {subscription.pk}{until}."


ACTIONS = {"skip-next-order": _skip_next_order, "pause-subscription": _pause_subscription}


@transaction.atomic
def flow_action_run(*, integration: Integration, action: str, action_run_id: str, properties: dict):
    """Run one Flow action once per `action_run_id` (Flow retries with the same id): a replay gets the
    first answer back and changes nothing. Returns (HTTP status for Flow, message). A refused action
    (domain rule, unknown subscription) changes nothing and is answered 4xx, which Flow does not retry."""
    shop = integration.shop
    try:
        with transaction.atomic():
            claim = InboundMessage.objects.create(shop=shop, partner=KEY, message_id=action_run_id)
    except IntegrityError:
        seen = InboundMessage.objects.get(shop=shop, partner=KEY, message_id=action_run_id)
        return seen.response_status, seen.outcome or "Already done."
    try:
        with transaction.atomic():
            status, message = 200, ACTIONS[action](shop=shop, properties=properties)
    except Http404:
        status, message = 404, f"No subscription {properties.get('subscription_id')} in this shop."
    except DomainError as exc:
        status, message = 422, exc.message
    claim.response_status, claim.outcome = status, message[:500]
    claim.save(update_fields=["response_status", "outcome"])
    return status, message


register_partner(
    Partner(
        key=KEY,
        name="Shopify Flow",
        events=TRIGGERS,
        send=send,
        connect=connect,
        classify=classify_answer,
        credential_fields=("shop_domain", "access_token"),
        description=(
            "Subscription events as Shopify Flow triggers, and Flow actions that skip the next order "
            "or pause a subscription. Needs Shopify's Advanced or Plus plan and the Flow app."
        ),
        extra={
            "actions": {"skip-next-order": "Skip next order", "pause-subscription": "Pause subscription"},
            # Empty: use the Shopify store connection's domain and token.
            "optional_credentials": ("shop_domain", "access_token"),
            "credential_help": {
                "shop_domain": "Leave empty to use your Shopify store connection.",
                "access_token": "Leave empty to use your Shopify store connection.",
            },
        },
    )
)
