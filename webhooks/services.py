"""Merchant webhook endpoints: create, update, delete, rotate the secret, send a test event.

The allowed event types come from `webhooks.registry`, which the apps owning events fill at
start-up; this module imports no other app.
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from webhooks import engine, http
from webhooks.endpoints import KIND
from webhooks.errors import InvalidEndpoint
from webhooks.models import Delivery, OutboxEvent, WebhookEndpoint, generate_endpoint_secret
from webhooks.outbox import EVENT_VERSION
from webhooks.registry import event_types, resolve_event_type, sample_data, shop_label

ROTATION_GRACE = dt.timedelta(hours=24)

URL_MAX_LENGTH = 2000
_url_validator = URLValidator(schemes=["http", "https"])
_UNSET = object()


def validate_url(url) -> str:
    """A well-formed http(s) URL whose host resolves, now, to public addresses only (loopback and
    private ranges only with WEBHOOKS_ALLOW_PRIVATE_URLS). The hardened client checks again when it
    connects, because DNS can change between now and then."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidEndpoint("url", "Give the URL that receives the webhooks.")
    url = url.strip()
    if len(url) > URL_MAX_LENGTH:
        raise InvalidEndpoint("url", f"The URL is longer than {URL_MAX_LENGTH} characters.")
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise InvalidEndpoint("url", "The URL must start with https:// or http://.")
    try:
        _url_validator(url)
    except ValidationError as exc:
        raise InvalidEndpoint("url", f"'{url}' is not a well-formed URL.") from exc
    try:
        http.check_url(url)
    except http.UnsafeURL as exc:
        raise InvalidEndpoint("url", f"{exc} Webhooks are only sent to public internet addresses.") from exc
    return url


def validate_events(events) -> list[str]:
    """Known event types, each once, in the order given. Seed (Smartrr) names are mapped to types."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise InvalidEndpoint("events", "Give a list of event types.")
    clean: list[str] = []
    for name in events:
        type_ = resolve_event_type(name) if isinstance(name, str) else None
        if type_ is None:
            raise InvalidEndpoint("events", f"Unknown event type '{name}'.")
        if type_ not in clean:
            clean.append(type_)
    if not clean:
        raise InvalidEndpoint("events", "Choose at least one event type.")
    return clean


@transaction.atomic
def endpoint_create(
    *, shop_id: int, url: str, events: Iterable[str], description: str = "", enabled: bool = True
) -> WebhookEndpoint:
    """A new endpoint with its own signing secret; URL and events are validated first."""
    return WebhookEndpoint.objects.create(
        shop_id=shop_id,
        url=validate_url(url),
        events=validate_events(events),
        description=(description or "").strip()[:255],
        enabled=enabled,
    )


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, url=_UNSET, events=_UNSET, description=_UNSET, enabled=_UNSET
) -> WebhookEndpoint:
    """Change what is given. Re-enabling clears the reason the endpoint was disabled."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not _UNSET:
        endpoint.url = validate_url(url)
    if events is not _UNSET:
        endpoint.events = validate_events(events)
    if description is not _UNSET:
        endpoint.description = (description or "").strip()[:255]
    if enabled is not _UNSET:
        if enabled and not endpoint.enabled:
            # A fixed endpoint starts afresh: the failure run that disabled it no longer counts.
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
            endpoint.failing_since = None
        endpoint.enabled = bool(enabled)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> WebhookEndpoint:
    """A new signing secret. The old one keeps signing beside it for 24 hours (two `v1,` signatures
    per delivery), so the merchant can switch their receiver over without losing a webhook."""
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_GRACE
    endpoint.secret = generate_endpoint_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def send_test_event(*, endpoint: WebhookEndpoint, event_type: str, actor: str = "admin") -> Delivery:
    """A sample event of `event_type`, delivered to this endpoint only (other endpoints and
    integrations never see it: the event is born relayed, with this one delivery)."""
    type_ = resolve_event_type(event_type)
    if type_ is None:
        raise InvalidEndpoint("event_type", f"Unknown event type '{event_type}'.")
    now = timezone.now()
    event_id = uuid.uuid4()
    with transaction.atomic():
        event = OutboxEvent.objects.create(
            id=event_id,
            shop_id=endpoint.shop_id,
            type=type_,
            version=EVENT_VERSION,
            actor=actor,
            payload={
                "id": str(event_id),
                "type": type_,
                "version": EVENT_VERSION,
                "occurred_at": now.isoformat(),
                "shop": shop_label(endpoint.shop_id),
                "actor": actor,
                "data": sample_data(type_, endpoint.shop_id),
            },
            occurred_at=now,
            relayed_at=now,
        )
        delivery = Delivery.objects.create(
            event=event,
            shop_id=endpoint.shop_id,
            destination_kind=KIND,
            destination_id=str(endpoint.pk),
            event_type=type_,
            next_attempt_at=now,
        )
        transaction.on_commit(lambda: engine.enqueue([delivery.pk]))
    return delivery


def known_event_types() -> list[str]:
    return sorted(event_types())
