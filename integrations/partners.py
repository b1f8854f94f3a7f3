"""Partner integrations as destinations of the delivery engine.

Each partner adapter registers a `Partner`: the events it can receive (event type -> the partner's
name for it), how to check credentials on connect, and how to send one event. Every connected
integration is one destination (`kind="integration"`, id = the Integration's id), so partners
inherit the engine's retries, delivery log and replay. A 401/403 from a partner marks the
integration "needs attention" and holds its deliveries until the merchant fixes the key.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from integrations.models import Integration
from webhooks.engine import Destination, SendResult, register_destination
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

log = logging.getLogger(__name__)
KIND = "integration"
# Error text of an attempt that was put off on purpose (not a failure: integration health untouched).
DEFERRED = "deferred"


class PartnerError(Exception):
    """A partner refused or failed a call; `field` names the credential at fault when known."""

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Partner:
    key: str
    name: str
    events: dict[str, str]  # our event type -> the partner's name (metric, event type, Flow handle)
    send: Callable[[Integration, OutboxEvent, Delivery], HttpResult]
    connect: Callable[[Integration], None]  # check credentials with a real call; raise PartnerError
    credential_fields: tuple[str, ...] = ()
    config_fields: tuple[str, ...] = ()
    description: str = ""
    after_connect: Callable[[Integration], None] | None = None
    # How to read the partner's answer when the status code alone does not tell (GraphQL answers
    # 200 with errors inside); defaults to `classify`.
    classify: Callable[[HttpResult], SendResult] | None = None
    # When a delivery may not go out yet (quiet hours...): the time it may, or None to send now.
    # The delivery stays pending and is tried again then; the partner is not called meanwhile.
    defer_until: Callable[[Integration, OutboxEvent], dt.datetime | None] | None = None
    extra: dict = field(default_factory=dict)


_PARTNERS: dict[str, Partner] = {}


def register_partner(partner: Partner) -> None:
    _PARTNERS[partner.key] = partner


def partners() -> dict[str, Partner]:
    return dict(_PARTNERS)


def partner(key: str) -> Partner:
    return _PARTNERS[key]


def retry_after(headers: dict) -> dt.timedelta | None:
    value = {k.lower(): v for k, v in (headers or {}).items()}.get("retry-after")
    try:
        return dt.timedelta(seconds=max(0, int(float(value)))) if value else None
    except ValueError:
        return None


def classify(result: HttpResult) -> SendResult:
    """Partner answers: 2xx delivered; 401/403 hold (needs attention); 429 retry after Retry-After;
    408/5xx/network retry; other 4xx fail (the payload is wrong: retrying will not help)."""
    base = dict(
        status_code=result.status_code,
        excerpt=result.body_excerpt,
        error=result.error,
        duration_ms=result.duration_ms,
    )
    code = result.status_code
    if code is None:
        return SendResult("retry", **base)
    if 200 <= code < 300:
        return SendResult("delivered", **base)
    if code in (401, 403):
        return SendResult(
            "hold", **dict(base, error=base["error"] or f"{code}: the partner refused our credentials")
        )
    if code == 429:
        return SendResult("retry", retry_after=retry_after(result.headers), **base)
    if code == 408 or code >= 500:
        return SendResult("retry", **base)
    return SendResult("fail", **base)


def _targets(events: list[OutboxEvent]) -> dict:
    shop_ids = {event.shop_id for event in events}
    live = (Integration.State.CONNECTED, Integration.State.NEEDS_ATTENTION)
    by_shop: dict[int, list[Integration]] = {}
    for integration in Integration.objects.filter(shop_id__in=shop_ids, state__in=live).only(
        "id", "shop_id", "partner", "events"
    ):
        by_shop.setdefault(integration.shop_id, []).append(integration)
    result = {}
    for event in events:
        wanted = [
            str(i.pk)
            for i in by_shop.get(event.shop_id, [])
            if i.partner in _PARTNERS and event.type in i.events and event.type in _PARTNERS[i.partner].events
        ]
        if wanted:
            result[event.pk] = wanted
    return result


def _send(delivery: Delivery, event: OutboxEvent) -> SendResult:
    integration = Integration.objects.select_related("shop").filter(pk=delivery.destination_id).first()
    if integration is None or integration.state == Integration.State.DISCONNECTED:
        return SendResult("fail", error="the integration is not connected")
    if integration.state == Integration.State.NEEDS_ATTENTION:
        return SendResult("hold", error="held until the integration's credentials are fixed")
    adapter = _PARTNERS.get(integration.partner)
    if adapter is None:
        return SendResult("hold", error=f"no adapter for {integration.partner}")
    if adapter.defer_until is not None:
        until = adapter.defer_until(integration, event)
        now = timezone.now()
        if until is not None and until > now:
            return SendResult("defer", retry_after=until - now, error=f"{DEFERRED} until {until.isoformat()}")
    return (adapter.classify or classify)(adapter.send(integration, event, delivery))


def _after_attempt(destination_id: str, result: SendResult, delivery: Delivery) -> None:
    now = timezone.now()
    if result.outcome == "delivered":
        Integration.objects.filter(pk=destination_id).update(last_success_at=now)
    elif result.outcome == "hold" and result.status_code in (401, 403):
        Integration.objects.filter(pk=destination_id, state=Integration.State.CONNECTED).update(
            state=Integration.State.NEEDS_ATTENTION, last_error=result.error[:500], last_error_at=now
        )
    elif result.outcome in ("retry", "fail") and not result.error.startswith(DEFERRED):
        message = result.error or f"HTTP {result.status_code}: {result.excerpt[:200]}"
        Integration.objects.filter(pk=destination_id).update(last_error=message[:500], last_error_at=now)


register_destination(Destination(kind=KIND, targets=_targets, send=_send, after_attempt=_after_attempt))
