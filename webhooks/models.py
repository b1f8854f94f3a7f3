"""The domain-event outbox. Services write rows here in the same transaction as their change.

`webhooks` imports no other app: the shop is referred to by id only.
"""

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
