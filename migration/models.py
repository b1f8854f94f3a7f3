"""Migrations from another subscription platform (Recharge): each run, what it found that cannot
be mapped, and which of our rows each source record became (so a re-run never duplicates)."""

import datetime as dt

from django.db import models
from django.utils import timezone

from subscriptions.models import Shop

# The order records are read in: each refers only to kinds read before it.
RESOURCES = ("customers", "payment_methods", "addresses", "subscriptions")
RESOURCE_LABELS = {
    "customers": "customers",
    "payment_methods": "payment methods",
    "addresses": "addresses",
    "subscriptions": "subscriptions",
}
DONE = "done"
STALLED_AFTER = dt.timedelta(minutes=15)


class MigrationRun(models.Model):
    """A dry run (reads everything, writes nothing but this report) or an import. The checkpoint
    holds, per resource, the cursor of the next page to read, or "done"; an interrupted import
    carries on from there."""

    class Mode(models.TextChoices):
        DRY_RUN = "dry_run", "Dry run"
        IMPORT = "import", "Import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        INTERRUPTED = "interrupted", "Interrupted"
        DONE = "done", "Done"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="migration_runs")
    source = models.CharField(max_length=32, default="recharge")
    mode = models.CharField(max_length=8, choices=Mode.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    checkpoint = models.JSONField(default=dict, blank=True)
    # {resource: {"new": n, "existing": n, "unmappable": n}}
    counts = models.JSONField(default=dict, blank=True)
    # Expected records per resource (from the last dry run), for the progress bar.
    totals = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Touched by every page; a run "running" with no page for a long time lost its worker.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "Recharge migration"
        verbose_name_plural = "Recharge migrations"

    def __str__(self) -> str:
        return f"{self.get_mode_display()} #{self.pk} ({self.get_status_display()})"

    def count(self, resource: str, kind: str) -> int:
        return int(self.counts.get(resource, {}).get(kind, 0))

    @property
    def stalled(self) -> bool:
        return self.status == self.Status.RUNNING and timezone.now() - self.updated_at > STALLED_AFTER

    @property
    def processed(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    @property
    def progress_percent(self) -> int:
        """Records read over records expected; by finished resources when nothing is expected yet."""
        if self.status == self.Status.DONE:
            return 100
        expected = sum(int(v) for v in self.totals.values())
        if expected:
            return min(99, int(100 * self.processed / expected))
        finished = sum(1 for r in RESOURCES if self.checkpoint.get(r) == DONE)
        return int(100 * finished / len(RESOURCES))


class MigrationIssue(models.Model):
    """A source record that cannot be mapped, with the reason (shown by dry runs and imports)."""

    run = models.ForeignKey(MigrationRun, on_delete=models.CASCADE, related_name="issues")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    resource = models.CharField(max_length=20)
    external_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["resource", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "resource", "external_id"], name="migration_issue_once_per_record"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.external_id}: {self.reason}"


class ExternalRecord(models.Model):
    """Source record -> our row. Unique per (shop, source, resource, external id): importing the
    same record again finds it here instead of creating it twice."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=32, default="recharge")
    resource = models.CharField(max_length=20)
    external_id = models.CharField(max_length=64)
    local_id = models.BigIntegerField()
    # What has no column of ours: a subscription's prepaid flag, an address's payment method...
    details = models.JSONField(default=dict, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["resource", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "source", "resource", "external_id"], name="external_record_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.resource} {self.external_id} -> {self.local_id}"
