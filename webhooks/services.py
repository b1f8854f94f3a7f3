"""Merchant webhook endpoints: create, update, delete.

The allowed event types come from `webhooks.registry`, which the apps owning events fill at
start-up; this module imports no other app.
"""

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from webhooks.errors import InvalidEndpoint
from webhooks.models import WebhookEndpoint
from webhooks.registry import resolve_event_type

URL_MAX_LENGTH = 2000
_url_validator = URLValidator(schemes=["http", "https"])
_UNSET = object()


def validate_url(url) -> str:
    """A well-formed http(s) URL. Whether it resolves to a public address is checked at delivery
    time, when the address is known (DNS can change between now and then)."""
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
            endpoint.disabled_reason = ""
        endpoint.enabled = bool(enabled)
    endpoint.save()
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
