"""Reads shared by the console and the API: the delivery log of a destination."""

import datetime as dt

from django.db.models import Prefetch, QuerySet

from webhooks.endpoints import KIND
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint


def delivery_log(
    *,
    endpoint: WebhookEndpoint,
    status: str = "",
    event_type: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Delivery]:
    """The endpoint's deliveries, newest first, each with its attempts (in order)."""
    deliveries = Delivery.objects.filter(
        shop_id=endpoint.shop_id, destination_kind=KIND, destination_id=str(endpoint.pk)
    )
    if status:
        deliveries = deliveries.filter(status=status)
    if event_type:
        deliveries = deliveries.filter(event_type=event_type)
    if since is not None:
        deliveries = deliveries.filter(created_at__gte=since)
    if until is not None:
        deliveries = deliveries.filter(created_at__lt=until)
    return deliveries.order_by("-created_at", "-pk").prefetch_related(
        Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number"))
    )


def endpoint_delivery(*, endpoint: WebhookEndpoint, delivery_id) -> Delivery | None:
    try:
        return delivery_log(endpoint=endpoint).filter(pk=delivery_id).first()
    except (ValueError, TypeError):
        return None


def disabled_endpoints(*, shop_id: int | None, limit: int = 5) -> list[WebhookEndpoint]:
    """Endpoints the platform (or the merchant) switched off with a reason, for the console notice;
    every shop's when shop_id is None (superuser)."""
    endpoints = WebhookEndpoint.objects.filter(enabled=False).exclude(disabled_reason="")
    if shop_id is not None:
        endpoints = endpoints.filter(shop_id=shop_id)
    return list(
        endpoints.order_by("-disabled_at", "-pk").only("id", "url", "disabled_reason", "shop_id")[:limit]
    )
