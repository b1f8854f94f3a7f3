"""What the merchant console keeps of its own: bulk jobs and uploaded imports.

The console's extra permissions (dashboard, bulk operations, import, export) hang on `BulkJob`'s
Meta, so the role groups (see `roles`) grant them like any model permission.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from subscriptions.models import Shop


class BulkJob(models.Model):
    """One bulk operation over a selection of subscriptions, run in the background."""

    class Operation(models.TextChoices):
        SKIP = "skip", "Skip the next order"
        PAUSE = "pause", "Pause"
        RESUME = "resume", "Resume"
        CANCEL = "cancel", "Cancel"
        SET_NEXT_BILLING_DATE = "set_next_billing_date", "Change the next billing date"
        SWAP_VARIANT = "swap_variant", "Swap a product variant for another"
        CHANGE_PRICE = "change_price", "Change a variant's price"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    operation = models.CharField(max_length=32, choices=Operation.choices)
    params = models.JSONField(default=dict, blank=True)
    # The selection is fixed when the job is made: later filter changes do not move it.
    subscription_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"subscription_id": 12, "reason": "Cannot skip an order: the subscription is PAUSED."}, ...]
    failures = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "bulk operation"
        permissions = [
            ("view_dashboard", "Can see the dashboard"),
            ("run_bulk_operations", "Can run bulk operations on subscriptions"),
            ("import_subscriptions", "Can import subscriptions from CSV"),
            ("export_data", "Can export customers, subscriptions and orders as CSV"),
        ]
        indexes = [models.Index(fields=["shop", "-created_at"], name="bulkjob_shop_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_operation_display()} on {self.total} subscription(s)"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.processed * 100 / self.total)


class SubscriptionImport(models.Model):
    """An uploaded CSV of subscriptions: validated and shown first, applied only when confirmed."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for confirmation"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Not applied (errors)"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file_name = models.CharField(max_length=255, blank=True)
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    created_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.file_name or self.pk} ({self.status})"
