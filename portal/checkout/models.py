"""Hosted checkout data: one row per checkout form shown, whose token makes placing it once-only."""

import uuid
from decimal import Decimal

from django.db import models

from subscriptions.models import CURRENCY_CHOICES, Customer, Shop


class Checkout(models.Model):
    """A checkout form as shown to a shopper. Placing it charges once: the gateway's idempotency
    key is the token plus `attempt`, which moves on only after a refused or refunded payment, so a
    double submit (or a retry after an unknown gateway answer) reuses the same key."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    attempt = models.PositiveSmallIntegerField(default=1)
    customer = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    subscription_ids = models.JSONField(default=list, blank=True)
    order_ids = models.JSONField(default=list, blank=True)
    gateway = models.CharField(max_length=16, blank=True)
    charge_reference = models.CharField(max_length=120, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, blank=True)
    # Stripe: the customer the checkout's SetupIntent saved the card to (Stripe Elements).
    stripe_customer_id = models.CharField(max_length=64, blank=True)
    refunds = models.JSONField(default=list, blank=True, help_text="Charges given back after a failed save.")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"checkout {self.token} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        return f"checkout-{self.token}-{self.attempt}"


class CheckoutSettings(models.Model):
    """What a shop's hosted subscribe page offers besides subscriptions (console: Hosted checkout)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="checkout_settings")
    allow_one_time_purchase = models.BooleanField(
        default=False, help_text="Offer a one-time purchase next to the subscription plans."
    )

    class Meta:
        verbose_name_plural = "checkout settings"

    def __str__(self) -> str:
        return f"checkout settings of {self.shop}"
