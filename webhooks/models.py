"""The domain-event outbox. Services write rows here in the same transaction as their change.

`webhooks` imports no other app: the shop is referred to by id only.
"""

import base64
import secrets
import uuid

from django.db import models
from django.utils import timezone


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
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Rotation: the previous secret keeps signing alongside the new one until it expires.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Start of the current run of failed attempts (cleared by any success); drives auto-disable.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Webhook"

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self, now=None) -> list[str]:
        """The current secret, plus the previous one while its rotation grace period lasts."""
        now = now or timezone.now()
        keys = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            keys.append(self.previous_secret)
        return keys


class Delivery(models.Model):
    """One event for one destination. Its id is the `webhook-id` the receiver sees, stable across
    retries and replays, so receivers can deduplicate."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed (gave up)"
        PAUSED = "paused", "Held (destination needs attention)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    shop_id = models.BigIntegerField()
    destination_kind = models.CharField(max_length=40)
    destination_id = models.CharField(max_length=64)
    event_type = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker holds a delivery until this time; if it dies, the sweep takes it over afterwards.
    locked_until = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "destination_kind", "destination_id"],
                name="one_delivery_per_event_and_destination",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="pending"), name="delivery_due_idx"
            ),
            models.Index(
                fields=["destination_kind", "destination_id", "-created_at"], name="delivery_destination_idx"
            ),
            models.Index(fields=["shop_id", "status", "-created_at"], name="delivery_shop_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} -> {self.destination_kind}:{self.destination_id}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="First 2 KB of the answer.")
    error = models.CharField(max_length=500, blank=True)
    succeeded = models.BooleanField(default=False)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"
