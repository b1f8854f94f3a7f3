"""Merchant webhook endpoints as a destination of the delivery engine: who gets an event, how it
is signed (Standard Webhooks) and sent, and what an endpoint's answers mean for it."""

import datetime as dt
import functools
import json
import logging
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks import http
from webhooks.engine import Destination, SendResult, register_destination
from webhooks.models import Delivery, OutboxEvent, WebhookEndpoint
from webhooks.registry import notify_shop_staff

log = logging.getLogger(__name__)
KIND = "webhook"
DISABLE_AFTER = dt.timedelta(days=5)
_NOT_READ = object()


def body_bytes(event: OutboxEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), sort_keys=False).encode()


@functools.lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    # Decoding the secret is the signer's set-up; a worker signs for the same endpoints over and over.
    return Webhook(secret)


def signature_header(secrets: list[str], msg_id: str, timestamp: dt.datetime, body: bytes) -> str:
    """`v1,<sig>` per secret, space-separated (two while a rotated secret is still honoured)."""
    text = body.decode()
    return " ".join(_signer(secret).sign(msg_id, timestamp, text) for secret in secrets)


def signed_headers(
    endpoint: WebhookEndpoint, delivery_id: str, body: bytes, now: dt.datetime | None = None
) -> dict:
    now = now or timezone.now()
    timestamp = dt.datetime.fromtimestamp(int(now.timestamp()), tz=dt.UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(endpoint.signing_secrets(now), delivery_id, timestamp, body),
    }


def _targets(events: list[OutboxEvent]) -> dict:
    shop_ids = {event.shop_id for event in events}
    endpoints: dict[int, list[WebhookEndpoint]] = {}
    for endpoint in WebhookEndpoint.objects.filter(shop_id__in=shop_ids, enabled=True).only(
        "id", "shop_id", "events"
    ):
        endpoints.setdefault(endpoint.shop_id, []).append(endpoint)
    result = {}
    for event in events:
        wanted = [str(e.pk) for e in endpoints.get(event.shop_id, []) if event.type in e.events]
        if wanted:
            result[event.pk] = wanted
    return result


def _retry_after(headers: dict) -> dt.timedelta | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return dt.timedelta(seconds=max(0, int(value)))
    except ValueError:
        try:
            return max(dt.timedelta(0), parsedate_to_datetime(value) - timezone.now())
        except (TypeError, ValueError):
            return None


def classify(result: http.HttpResult) -> SendResult:
    """2xx delivered; 410 gone; 408/429/5xx and network errors retried (429/503 honour Retry-After);
    3xx is a failure (redirects are not followed) and retried; other 4xx are not retried."""
    code = result.status_code
    base = dict(
        status_code=code, excerpt=result.body_excerpt, error=result.error, duration_ms=result.duration_ms
    )
    if code is None:
        outcome = "fail" if result.error.startswith("refused") else "retry"
        return SendResult(outcome, **base)
    if 200 <= code < 300:
        return SendResult("delivered", **base)
    if code == 410:
        return SendResult("gone", **dict(base, error=base["error"] or "410 Gone: the endpoint asked to stop"))
    if code in (429, 503):
        return SendResult("retry", retry_after=_retry_after(result.headers), **base)
    if 300 <= code < 400:
        return SendResult("retry", **dict(base, error=base["error"] or f"{code} redirect (not followed)"))
    if code == 408 or code >= 500:
        return SendResult("retry", **base)
    return SendResult("fail", **base)


def _prepare(deliveries: list[Delivery]) -> None:
    """Read every endpoint of a batch once; _send and _after_attempt work on those rows."""
    ids = {d.destination_id for d in deliveries}
    endpoints = {str(e.pk): e for e in WebhookEndpoint.objects.filter(pk__in=ids)}
    for delivery in deliveries:
        delivery._webhook_endpoint = endpoints.get(delivery.destination_id)


def _send(delivery: Delivery, event: OutboxEvent) -> SendResult:
    endpoint = getattr(delivery, "_webhook_endpoint", _NOT_READ)
    if endpoint is _NOT_READ:
        endpoint = WebhookEndpoint.objects.filter(pk=delivery.destination_id).first()
        delivery._webhook_endpoint = endpoint
    if endpoint is None:
        return SendResult("fail", error="the webhook endpoint was deleted")
    if not endpoint.enabled:
        return SendResult(
            "fail",
            error=f"the webhook endpoint is disabled ({endpoint.disabled_reason or 'by the merchant'})",
        )
    body = body_bytes(event)
    headers = signed_headers(endpoint, str(delivery.pk), body)
    return classify(
        http.post(endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    )


def _after_attempt(destination_id: str, result: SendResult, delivery: Delivery) -> None:
    now = timezone.now()
    endpoint = getattr(delivery, "_webhook_endpoint", _NOT_READ)
    if endpoint is _NOT_READ:
        endpoint = WebhookEndpoint.objects.filter(pk=destination_id).first()
    if endpoint is None:
        return
    if result.outcome == "delivered":
        if endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return
    if result.outcome == "gone":
        endpoint_disable(endpoint, reason="The endpoint answered 410 Gone.")
        return
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    elif now - endpoint.failing_since >= DISABLE_AFTER and endpoint.enabled:
        endpoint_disable(endpoint, reason="Every delivery failed for 5 days.")


def endpoint_disable(endpoint: WebhookEndpoint, *, reason: str) -> None:
    """Stop sending to an endpoint and tell the shop's staff (console banner + email)."""
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason[:255], disabled_at=timezone.now()
    )
    if updated:
        log.warning("webhook endpoint %s disabled: %s", endpoint.url, reason)
        notify_shop_staff(
            endpoint.shop_id,
            subject=f"Webhook endpoint disabled: {endpoint.url}",
            message=f"We stopped sending webhooks to {endpoint.url}. {reason} Fix the endpoint, then enable it "
            "again in the console (Integrations > Webhooks) and replay the failed deliveries.",
        )


register_destination(
    Destination(kind=KIND, targets=_targets, send=_send, after_attempt=_after_attempt, prepare=_prepare)
)
