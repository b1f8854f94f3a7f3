"""Klaviyo: subscription and loyalty events as "Smartrr: ..." metrics, plus custom profile properties.

Wire format (see reference/partner-contracts.md): `POST /api/events` (202) with a JSON:API body
naming the metric and the profile; after each event the profile is upserted with
`POST /api/profile-import` so segments can use subscription status, next order date and the rest.
Every call carries the private key and the pinned `revision` (setting `KLAVIYO_REVISION`).

The event id is the delivery id (`unique_id`): Klaviyo keeps one event per unique id, so a retried
delivery never counts twice. If the event went through but the profile update did not, the answer
of the profile update is what the engine sees, so it is retried (and the event, resent with the
same unique id, is not duplicated).
"""

import datetime as dt
import json
import logging
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from celery import shared_task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from integrations.models import Integration
from integrations.partners import Partner, PartnerError, register_partner
from subscriptions.models import Customer, Subscription
from subscriptions.selectors import effective_next_order_date
from webhooks import http
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent
from webhooks.registry import customer_facts, sample_data

log = logging.getLogger(__name__)

KEY = "klaviyo"
API = "https://a.klaviyo.com/api"
EVENTS_URL = f"{API}/events"
PROFILE_IMPORT_URL = f"{API}/profile-import"
METRIC_PREFIX = "Smartrr: "
TEST_PROFILE_EXTERNAL_ID = "smartrr-test-profile"

# Our event type -> Klaviyo metric (DESIGN.md's event table); the metric is created on first use.
METRICS: dict[str, str] = {
    event_type: METRIC_PREFIX + name
    for event_type, name in {
        "subscription.created": "Subscription created",
        "subscription.upcoming_order": "Subscription upcoming order",
        "subscription.send_now": "Subscription send now",
        "subscription.transaction_succeeded": "Transaction successful",
        "subscription.transaction_failed": "Transaction attempt failed",
        "subscription.skipped": "Subscription skipped",
        "subscription.unskipped": "Subscription unskipped",
        "subscription.gifted": "Subscription gifted",
        "subscription.next_order_date_changed": "Subscription next order date change",
        "subscription.product_unavailable": "Subscription product unavailable",
        "subscription.canceled": "Subscription canceled",
        "subscription.paused": "Subscription paused",
        "subscription.activated": "Subscription activated (unpaused)",
        "subscription.auto_resume_upcoming": "Subscription auto-resume",
        "loyalty.points_earned": "Loyalty points earned",
        "loyalty.bonus_points_earned": "Bonus points earned",
        "loyalty.referral_succeeded": "Successful referral",
        "loyalty.points_redeemed": "Loyalty points redeemed",
        "loyalty.referral_code_generated": "Referral code generated",
    }.items()
}

# Custom profile properties (Klaviyo > profile > Custom properties), snake_case so templates can
# say {{ person.smartrr_next_order_date }}.
PROFILE_PROPERTIES = (
    "smartrr_subscription_status",
    "smartrr_active_subscription_count",
    "smartrr_next_order_date",
    "smartrr_subscriber_since",
    "smartrr_loyalty_points_balance",
    "smartrr_referral_code",
    "smartrr_account_page_link",
)

# The flat, template-friendly fields every event carries ({{ event.first_name }} in a flow email).
FLAT_FIELDS = (
    "first_name",
    "account_page_link",
    "next_order_date",
    "new_delivery_date",
    "frequency_unit",
    "frequency_interval",
)

PUBLIC_KEY_SHAPE = re.compile(r"^[A-Za-z0-9]{6}$")
PRIVATE_KEY_SHAPE = re.compile(r"^pk_[A-Za-z0-9_]{6,}$")
E164_LIKE = re.compile(r"^\+[1-9]\d{6,14}$")
STATUS_RANK = ("ACTIVE", "PAUSED", "CANCELLED")


# ---------------------------------------------------------------- HTTP


def _timeout() -> float:
    return float(getattr(settings, "WEBHOOKS_TIMEOUT_SECONDS", http.DEFAULT_TIMEOUT))


def headers(private_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Klaviyo-API-Key {private_key}",
        "revision": settings.KLAVIYO_REVISION,
        "accept": "application/vnd.api+json",
        "content-type": "application/vnd.api+json",
    }


def _redact(text: str, integration: Integration) -> str:
    """Never let a key reach the delivery log or `last_error`, even if an answer quoted it."""
    for value in (integration.credentials or {}).values():
        if value and len(str(value)) >= 6:
            text = text.replace(str(value), "[redacted]")
    return text


def _post(integration: Integration, url: str, body: dict) -> HttpResult:
    """One call through the platform's hardened `requests` session; network trouble (timeouts
    included) is reported in the result, never raised."""
    started = time.perf_counter()
    try:
        response = http.session().post(
            url,
            data=json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":")).encode(),
            headers=headers(integration.credentials.get("private_key", "")),
            timeout=_timeout(),
            allow_redirects=False,
        )
    except (requests.RequestException, OSError, ValueError) as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        error = _redact(f"{exc.__class__.__name__}: {exc}", integration)
        return HttpResult(None, "", {}, elapsed, error[:500])
    elapsed = int((time.perf_counter() - started) * 1000)
    excerpt = response.content[:2048].decode("utf-8", "replace")
    return HttpResult(response.status_code, _redact(excerpt, integration), dict(response.headers), elapsed)


def _ok(result: HttpResult) -> bool:
    return result.status_code is not None and 200 <= result.status_code < 300


# ---------------------------------------------------------------- bodies


def _phone(value: str) -> str | None:
    """The phone number when it already looks like E.164 (Klaviyo refuses the whole call otherwise)."""
    compact = re.sub(r"[\s\-().]", "", value or "")
    return compact if E164_LIKE.match(compact) else None


def _iso_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "")[:10]


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value or "")


def _number(value: Any) -> float | None:
    try:
        return float(Decimal(str(value))) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None


def profile_identity(customer: dict) -> dict[str, Any]:
    """email, phone_number (only when E.164-like) and external_id of the customer."""
    identity: dict[str, Any] = {"email": customer.get("email") or None}
    phone = _phone(customer.get("phone") or "")
    if phone:
        identity["phone_number"] = phone
    external = customer.get("external_id") or (str(customer["id"]) if customer.get("id") else "")
    if external:
        identity["external_id"] = external
    return {k: v for k, v in identity.items() if v}


def _customer_subscriptions(shop_id: int, customer_id) -> list[Subscription] | None:
    if not customer_id or not Customer.objects.filter(shop_id=shop_id, pk=customer_id).exists():
        return None
    return list(
        Subscription.objects.filter(shop_id=shop_id, customer_id=customer_id).only(
            "id", "status", "next_billing_date", "shop_id"
        )
    )


def profile_properties(shop_id: int, data: dict) -> dict[str, Any]:
    """The custom profile properties, from the event payload, then corrected from the database
    (the customer may have several subscriptions; a retry may come hours later) and from the apps
    that own loyalty facts (registered with `webhooks.registry.register_customer_facts`)."""
    customer = data.get("customer") or {}
    subscription = data.get("subscription") or {}
    status = subscription.get("status") or ""
    properties: dict[str, Any] = {
        "smartrr_subscription_status": status,
        "smartrr_active_subscription_count": 1 if status == "ACTIVE" else 0,
        "smartrr_next_order_date": _iso_date(subscription.get("next_billing_date"))
        if status == "ACTIVE"
        else "",
        "smartrr_subscriber_since": _iso(customer.get("subscriber_since")),
        "smartrr_loyalty_points_balance": int(data.get("balance") or 0),
        "smartrr_referral_code": data.get("referral_code") or "",
        "smartrr_account_page_link": data.get("account_page_link") or "",
    }
    subscriptions = _customer_subscriptions(shop_id, customer.get("id"))
    if subscriptions:
        statuses = {s.status for s in subscriptions}
        active = [s for s in subscriptions if s.status == Subscription.Status.ACTIVE]
        dates = [d for d in (effective_next_order_date(s) for s in active) if d is not None]
        properties["smartrr_subscription_status"] = next(s for s in STATUS_RANK if s in statuses)
        properties["smartrr_active_subscription_count"] = len(active)
        properties["smartrr_next_order_date"] = min(dates).isoformat() if dates else ""
    if customer.get("id"):
        facts = customer_facts(shop_id, customer["id"])
        if "loyalty_points_balance" in facts:
            properties["smartrr_loyalty_points_balance"] = int(facts["loyalty_points_balance"] or 0)
        if "referral_code" in facts:
            properties["smartrr_referral_code"] = facts["referral_code"] or ""
    return properties


def event_properties(data: dict) -> dict[str, Any]:
    """Flat template fields first, the items array, the nested subscription, then whatever else the
    event carries (skipped date, gift, amount, points...). The customer is the profile, not a
    property."""
    properties: dict[str, Any] = {name: data[name] for name in FLAT_FIELDS if name in data}
    subscription = data.get("subscription")
    if subscription:
        properties["items"] = subscription.get("items", [])
        properties["subscription"] = subscription
    for name, value in data.items():
        if name not in properties and name != "customer":
            properties[name] = value
    return properties


def event_body(
    *, event_type: str, data: dict, occurred_at: dt.datetime, unique_id: str, profile: dict
) -> dict:
    attributes: dict[str, Any] = {
        "properties": event_properties(data),
        "time": occurred_at.isoformat(),
    }
    value = _number(data.get("amount")) if event_type.startswith("subscription.transaction") else None
    if value is not None:
        attributes["value"] = value
    attributes["unique_id"] = unique_id
    attributes["metric"] = {"data": {"type": "metric", "attributes": {"name": METRICS[event_type]}}}
    attributes["profile"] = {"data": {"type": "profile", "attributes": profile}}
    return {"data": {"type": "event", "attributes": attributes}}


def profile_import_body(*, data: dict, properties: dict) -> dict:
    customer = data.get("customer") or {}
    attributes: dict[str, Any] = profile_identity(customer)
    for name in ("first_name", "last_name"):
        if customer.get(name):
            attributes[name] = customer[name]
    attributes["properties"] = properties
    return {"data": {"type": "profile", "attributes": attributes}}


# ---------------------------------------------------------------- send


def _send_data(integration: Integration, *, event_type: str, data: dict, occurred_at, unique_id: str):
    properties = profile_properties(integration.shop_id, data)
    profile = {**profile_identity(data.get("customer") or {}), "properties": properties}
    result = _post(
        integration,
        EVENTS_URL,
        event_body(
            event_type=event_type, data=data, occurred_at=occurred_at, unique_id=unique_id, profile=profile
        ),
    )
    if not _ok(result) or not (data.get("customer") or {}).get("email"):
        return result
    upsert = _post(integration, PROFILE_IMPORT_URL, profile_import_body(data=data, properties=properties))
    if _ok(upsert):
        return HttpResult(
            result.status_code, result.body_excerpt, result.headers, result.duration_ms + upsert.duration_ms
        )
    error = upsert.error or f"profile-import answered {upsert.status_code}"
    return HttpResult(upsert.status_code, upsert.body_excerpt, upsert.headers, upsert.duration_ms, error)


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    payload = event.payload if isinstance(event.payload, dict) else {}
    data = payload.get("data", payload)
    return _send_data(
        integration,
        event_type=event.type,
        data=data,
        occurred_at=event.occurred_at,
        unique_id=str(delivery.id),
    )


# ---------------------------------------------------------------- connect


def _test_data(event_type: str, shop_id: int | None) -> dict:
    """A believable payload addressed to the test profile, never to a real customer."""
    data = json.loads(json.dumps(sample_data(event_type, shop_id), cls=DjangoJSONEncoder))
    data["customer"] = {
        **(data.get("customer") or {}),
        "id": None,
        "email": settings.KLAVIYO_TEST_PROFILE_EMAIL,
        "first_name": "Test",
        "last_name": "Subscriber",
        "phone": "",
        "external_id": TEST_PROFILE_EXTERNAL_ID,
    }
    data["first_name"] = "Test"
    return data


def connect(integration: Integration) -> None:
    """Shapes first (no call needed to tell a mistyped key), then a real call with the private key:
    the test profile is upserted, which needs the `profiles:write` scope we use anyway."""
    creds = integration.credentials or {}
    if not PUBLIC_KEY_SHAPE.match(creds.get("public_key", "")):
        raise PartnerError(
            "the public API key is the 6-character site ID shown at the top of Klaviyo's "
            "Settings > API keys page (letters and digits only).",
            field="public_key",
        )
    if not PRIVATE_KEY_SHAPE.match(creds.get("private_key", "")):
        raise PartnerError(
            "a private API key starts with pk_ (create one in Klaviyo under Settings > API keys).",
            field="private_key",
        )
    data = _test_data("subscription.created", None)
    properties = {name: "" for name in PROFILE_PROPERTIES}
    result = _post(integration, PROFILE_IMPORT_URL, profile_import_body(data=data, properties=properties))
    if _ok(result):
        return
    if result.status_code == 401:
        raise PartnerError("Klaviyo did not accept the private API key.", field="private_key", status=401)
    if result.status_code == 403:
        raise PartnerError(
            "the private API key may not write profiles; give it full access, or at least the "
            "Events and Profiles write scopes.",
            field="private_key",
            status=403,
        )
    if result.status_code is None:
        raise PartnerError("Klaviyo could not be reached; try again in a minute.")
    raise PartnerError(
        f"Klaviyo answered HTTP {result.status_code}; try again in a minute.", status=result.status_code
    )


def send_test(integration: Integration, event_type: str) -> HttpResult:
    """One event to the test profile (the console's "Send test")."""
    return _send_data(
        integration,
        event_type=event_type,
        data=_test_data(event_type, integration.shop_id),
        occurred_at=timezone.now(),
        unique_id=f"smartrr-test-{integration.pk}-{event_type}-{int(time.time())}",
    )


def fire_test_metrics(integration: Integration) -> list[str]:
    """Every metric once for the test profile, so all of them can be picked in Klaviyo flows right
    after connecting. Sent directly, not through the engine; failures are recorded on the
    integration. Returns the metrics that failed."""
    # One unique id per connection: running this twice for one connection sends nothing twice.
    stamp = int((integration.connected_at or timezone.now()).timestamp())
    failed: list[str] = []
    errors: list[str] = []
    for event_type, metric in METRICS.items():
        result = _send_data(
            integration,
            event_type=event_type,
            data=_test_data(event_type, integration.shop_id),
            occurred_at=timezone.now(),
            unique_id=f"smartrr-test-{integration.pk}-{stamp}-{event_type}",
        )
        if not _ok(result):
            failed.append(metric)
            errors.append(result.error or f"HTTP {result.status_code}")
    now = timezone.now()
    if failed:
        message = f"Test metrics: {len(failed)} of {len(METRICS)} failed ({failed[0]}: {errors[0]})"
        Integration.objects.filter(pk=integration.pk).update(last_error=message[:500], last_error_at=now)
        log.warning("klaviyo test metrics for integration %s: %d failed", integration.pk, len(failed))
    else:
        Integration.objects.filter(pk=integration.pk).update(last_success_at=now)
    return failed


@shared_task(name="integrations.klaviyo.fire_test_metrics", acks_late=True)
def fire_test_metrics_task(integration_id: int) -> int:
    integration = Integration.objects.filter(pk=integration_id, state=Integration.State.CONNECTED).first()
    return len(fire_test_metrics(integration)) if integration is not None else 0


def after_connect(integration: Integration) -> None:
    # Nineteen calls do not belong in the merchant's request: a worker sends them.
    try:
        fire_test_metrics_task.delay(integration.pk)
    except Exception:  # broker down: send them here rather than not at all
        log.warning("could not enqueue the Klaviyo test metrics; sending them inline", exc_info=True)
        fire_test_metrics(integration)


register_partner(
    Partner(
        key=KEY,
        name="Klaviyo",
        events=METRICS,
        send=send,
        connect=connect,
        after_connect=after_connect,
        credential_fields=("public_key", "private_key"),
        description=(
            "Subscription and loyalty events as “Smartrr: …” metrics for flows, and subscription "
            "status, next order date and loyalty balance on each customer's profile."
        ),
        extra={
            "send_test": send_test,
            "credential_labels": {"public_key": "Public API key (site ID)", "private_key": "Private API key"},
            "credential_help": {
                "public_key": "Klaviyo > Settings > API keys: the 6-character key at the top.",
                "private_key": "Create a private key (pk_…) with full access on the same page.",
            },
        },
    )
)
