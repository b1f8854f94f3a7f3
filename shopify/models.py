"""What the Shopify connection keeps of its own: catalogue import runs and privacy requests.

The connection itself is an `integrations.Integration` (partner "shopify"); Shopify ids live on the
subscription models (`external_id`, `Order.shopify_order_name`, `Variant.shopify_inventory_item_id`).
"""

from django.db import models
from django.utils import timezone

from subscriptions.models import Customer, Shop


class CatalogueImport(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    products = models.PositiveIntegerField(default=0)
    variants = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "catalogue import"

    def __str__(self) -> str:
        return f"Catalogue import of {self.started_at:%Y-%m-%d %H:%M}"


class PrivacyRequest(models.Model):
    """One of Shopify's mandatory privacy webhooks, as received and as honoured."""

    class Topic(models.TextChoices):
        CUSTOMER_DATA_REQUEST = "customers/data_request", "Customer data request"
        CUSTOMER_REDACT = "customers/redact", "Customer erasure"
        SHOP_REDACT = "shop/redact", "Shop erasure"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    topic = models.CharField(max_length=32, choices=Topic.choices)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    shopify_customer_id = models.CharField(max_length=64, blank=True)
    data_request_id = models.CharField(max_length=64, blank=True)
    export = models.JSONField(
        default=dict, blank=True, help_text="For a data request: everything held about the customer."
    )
    outcome = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} ({self.received_at:%Y-%m-%d})"
