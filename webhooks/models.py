"""The domain-event outbox. Services write rows here in the same transaction as their change.

`webhooks` imports no other app: the shop is referred to by id only.
"""

import base64
import secrets
import uuid

from django.db import models


class OutboxEvent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop_id = models.BigIntegerField(db_index=True)
    type = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(default=1)
    actor = models.CharField(max_length=120)
    payload = models.JSONField()
    occurred_at = models.DateTimeField()
    # Set by the relay once every destination has its delivery row.
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"], condition=models.Q(relayed_at__isnull=True), name="outbox_pending_idx"
            ),
            models.Index(fields=["shop_id", "type", "occurred_at"], name="outbox_shop_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


def generate_endpoint_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A merchant's URL that receives the events it subscribed to (delivery lives in the relay)."""

    shop_id = models.BigIntegerField(db_index=True)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types delivered to this URL.")
    description = models.CharField(max_length=255, blank=True)
    secret = models.CharField(max_length=100, default=generate_endpoint_secret, editable=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Webhook"

    def __str__(self) -> str:
        return self.url
