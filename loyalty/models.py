"""Loyalty: points ledger, earning rules, rewards and referrals.

The ledger is append-only; `CustomerBalance` is the derived balance, written in the same
transaction as each entry under a row lock, and a CheckConstraint keeps it from going negative.
Writes happen in `services.py`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from subscriptions.models import Customer, DiscountCode, Shop, Subscription, Variant


class LoyaltyProgram(models.Model):
    """A shop's earning rules. One per shop; points are only earned while it is enabled."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="loyalty_program")
    enabled = models.BooleanField(default=False)
    points_per_currency_unit = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Points for each whole unit of the shop's currency paid (rounded down).",
    )
    points_on_subscription_created = models.PositiveIntegerField(default=0)
    points_on_account_created = models.PositiveIntegerField(
        default=0, help_text="Paid once, when the customer's first subscription is created."
    )
    every_nth_order = models.PositiveIntegerField(
        null=True, blank=True, help_text="Every Nth paid order earns the bonus below."
    )
    nth_order_bonus = models.PositiveIntegerField(default=0)
    anniversary_bonus = models.PositiveIntegerField(
        default=0, help_text="Paid on the first order on or after each yearly subscription anniversary."
    )
    campaign_starts_at = models.DateTimeField(null=True, blank=True)
    campaign_ends_at = models.DateTimeField(null=True, blank=True)
    campaign_multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("1"))]
    )
    campaign_bonus = models.PositiveIntegerField(default=0)
    expiry_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Points expire this many days after they were earned; empty: never."
    )
    referee_discount = models.ForeignKey(
        DiscountCode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Applied to a referred customer's first subscription.",
    )
    referrer_points = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(campaign_starts_at__isnull=True)
                | Q(campaign_ends_at__isnull=True)
                | Q(campaign_ends_at__gt=models.F("campaign_starts_at")),
                name="loyalty_campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Loyalty program of {self.shop}"

    def campaign_active(self, at=None) -> bool:
        at = at or timezone.now()
        if self.campaign_starts_at is None and self.campaign_ends_at is None:
            return False
        return (self.campaign_starts_at is None or self.campaign_starts_at <= at) and (
            self.campaign_ends_at is None or at < self.campaign_ends_at
        )


class LedgerEntry(models.Model):
    """One movement of points. Never updated or deleted: corrections are new `adjust` entries."""

    class Kind(models.TextChoices):
        EARN = "earn", "Earned"
        BONUS = "bonus", "Bonus"
        REDEEM = "redeem", "Redeemed"
        EXPIRE = "expire", "Expired"
        ADJUST = "adjust", "Adjusted"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="ledger_entries")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    points = models.IntegerField(help_text="Positive when earned, negative when spent or expired.")
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=255, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The event (or other source) this entry answers: replaying it earns nothing twice.
    source_event_id = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "kind", "source_event_id"],
                condition=Q(source_event_id__isnull=False),
                name="ledger_entry_once_per_source",
            ),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="ledger_balance_after_not_negative"
            ),
            models.CheckConstraint(condition=~Q(points=0), name="ledger_points_not_zero"),
        ]
        indexes = [models.Index(fields=["customer", "-created_at"], name="ledger_customer_recent_idx")]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.kind} ({self.reason})"


class CustomerBalance(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="loyalty_balance")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    points = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="loyalty_balance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.points} points"


class Reward(models.Model):
    class Kind(models.TextChoices):
        FIXED_AMOUNT = "fixed_amount", "Fixed amount off"
        PERCENTAGE = "percentage", "Percentage off"
        FREE_PRODUCT = "free_product", "Free product"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="loyalty_rewards")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    points_cost = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["points_cost", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(points_cost__gte=1), name="reward_costs_points"),
            models.CheckConstraint(
                condition=~Q(kind="free_product") | Q(variant__isnull=False),
                name="free_product_reward_has_variant",
            ),
            models.CheckConstraint(
                condition=Q(kind="free_product") | Q(value__gt=0), name="discount_reward_has_value"
            ),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100), name="reward_percentage_max_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.points_cost} points)"


class Redemption(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="redemptions")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points = models.PositiveIntegerField()
    discount_code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ledger_entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="redemption")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reward} for {self.customer}"


class ReferralCode(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="referral_code")
    code = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="referral_code_unique_per_shop")]

    def __str__(self) -> str:
        return self.code

    @property
    def link(self) -> str:
        """Where a referred friend lands: the shop's storefront with the code."""
        return f"https://{self.shop.domain}/?ref={self.code}"


class Referral(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        REFUSED = "refused", "Refused"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    referrer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="referrals_made")
    referee = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="referred_by")
    referee_email = models.EmailField()
    code = models.ForeignKey(ReferralCode, on_delete=models.CASCADE, related_name="referrals")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.referrer} → {self.referee_email} ({self.status})"
