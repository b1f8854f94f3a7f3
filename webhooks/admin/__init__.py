"""The webhooks app in the merchant console: events, endpoints, deliveries (scoped by shop)."""

from webhooks.admin.deliveries import DeliveryAdmin
from webhooks.admin.endpoints import WebhookEndpointAdmin
from webhooks.admin.outbox import OutboxEventAdmin

__all__ = ["DeliveryAdmin", "OutboxEventAdmin", "WebhookEndpointAdmin"]
