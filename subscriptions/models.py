"""Subscription domain: data and the invariants that need no I/O.

Every business row carries `shop`: tenancy is enforced by scoping every queryset on it.
Writes happen in `services/`; models only hold data, constraints and pure helpers.
"""

import calendar
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

CURRENCY_CHOICES = [(c, c) for c in ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "INR", "JPY", "CHF", "SEK")]

validate_hex_colour = RegexValidator(r"^#[0-9A-Fa-f]{6}$", "Enter a colour as #RRGGBB (for example #1f6feb).")


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"'{value}' is not a known IANA timezone (for example Europe/London).")


class Shop(models.Model):
    class FinalAction(models.TextChoices):
        CANCEL = "cancel", "Cancel the subscription"
        PAUSE = "pause", "Pause the subscription"
        SKIP = "skip", "Skip the order"

    class UnavailableAction(models.TextChoices):
        SKIP_LINE = "skip_line", "Ship the rest, skip the unavailable line"
        SKIP_ORDER = "skip_order", "Skip the whole order"

    domain = models.CharField(max_length=255, unique=True, help_text="For example my-shop.myshopify.com")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="USD")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    billing_time = models.TimeField(
        default=dt.time(9, 0), help_text="Local time at which renewals are charged daily."
    )
    upcoming_notice_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    dunning_retries = models.PositiveSmallIntegerField(default=3, validators=[MaxValueValidator(10)])
    dunning_retry_interval_days = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    dunning_final_action = models.CharField(
        max_length=16, choices=FinalAction.choices, default=FinalAction.CANCEL
    )
    unavailable_product_action = models.CharField(
        max_length=16, choices=UnavailableAction.choices, default=UnavailableAction.SKIP_LINE
    )
    date_format = models.CharField(
        max_length=20, default="%B %-d, %Y", help_text="How dates are shown to customers."
    )
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="The language of the emails the shop sends its customers (the shipped defaults).",
    )
    logo_url = models.URLField(blank=True, help_text="Logo shown at the top of the customer portal.")
    brand_color = models.CharField(
        max_length=7,
        default="#1f6feb",
        validators=[validate_hex_colour],
        help_text="Portal header and button colour, as #RRGGBB.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(upcoming_notice_days__gte=1) & Q(upcoming_notice_days__lte=30),
                name="shop_notice_days_1_30",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_now(self) -> dt.datetime:
        return timezone.now().astimezone(self.tz)

    def local_today(self) -> dt.date:
        return self.local_now().date()

    def next_billing_run_date(self) -> dt.date:
        """The date of this shop's next daily billing run: today if its billing time has not passed yet."""
        now = self.local_now()
        return now.date() if now.time() < self.billing_time else now.date() + dt.timedelta(days=1)


class StaffMembership(models.Model):
    """Ties a console user to the one shop they work for. Superusers need none: they see every shop."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=32, default="owner")

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop}"


class Customer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    email = models.EmailField()
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    has_logged_in = models.BooleanField(default=False)
    subscriber_since = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="Shopify customer id, when there is one."
    )
    stripe_customer_id = models.CharField(
        max_length=64, blank=True, help_text="Stripe customer (cus_...), made on first card setup."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "email"], name="customer_email_unique_per_shop"),
        ]
        indexes = [
            models.Index(fields=["shop", "last_name", "first_name"], name="customer_name_idx"),
            models.Index(fields=["shop", "external_id"], name="customer_external_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Address(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    province = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2 code, for example US")
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "addresses"

    def __str__(self) -> str:
        return ", ".join(p for p in (self.line1, self.city, self.postal_code, self.country) if p)

    def as_dict(self) -> dict:
        return {
            f: getattr(self, f)
            for f in (
                "first_name",
                "last_name",
                "line1",
                "line2",
                "city",
                "province",
                "postal_code",
                "country",
                "phone",
            )
        }


class PaymentMethod(models.Model):
    class Gateway(models.TextChoices):
        TEST = "test", "Test gateway"
        STRIPE = "stripe", "Stripe"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="payment_methods")
    gateway = models.CharField(max_length=16, choices=Gateway.choices, default=Gateway.TEST)
    token = models.CharField(max_length=255, help_text="The gateway's reference, never a card number.")
    brand = models.CharField(max_length=32, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        if self.last4:
            return (
                f"{self.brand or 'Card'} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"
                if self.exp_month
                else f"{self.brand} •••• {self.last4}"
            )
        return f"{self.get_gateway_display()} {self.token[:12]}"


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    title = models.CharField(max_length=255, default="Default")
    sku = models.CharField(max_length=64)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    available = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    inventory = models.IntegerField(null=True, blank=True, help_text="Leave empty when stock is not tracked.")
    external_id = models.CharField(max_length=64, blank=True)
    # Shopify's inventory item of this variant: `inventory_levels/update` webhooks name only that.
    shopify_inventory_item_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["product__title", "title"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="variant_sku_unique_per_shop"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.title} — {self.title} ({self.sku})"

    @property
    def purchasable(self) -> bool:
        return self.available and not self.archived and (self.inventory is None or self.inventory > 0)


class SubscriptionProgram(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="programs")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    products = models.ManyToManyField(Product, blank=True, related_name="programs")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="program_name_unique_per_shop")]

    def __str__(self) -> str:
        return self.name


class IntervalUnit(models.TextChoices):
    DAY = "day", "day"
    WEEK = "week", "week"
    MONTH = "month", "month"
    YEAR = "year", "year"


def add_interval(date: dt.date, unit: str, count: int, anchor_day: int | None = None) -> dt.date:
    """Move a date forward by `count` units, calendar-correct.

    Months and years keep the subscription's anchor day where the month has it (Jan 31 -> Feb 28 -> Mar 31),
    so a short month never shifts every later order.
    """
    if unit == IntervalUnit.DAY:
        return date + dt.timedelta(days=count)
    if unit == IntervalUnit.WEEK:
        return date + dt.timedelta(weeks=count)
    months = count if unit == IntervalUnit.MONTH else count * 12
    total = date.year * 12 + (date.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    day = min(anchor_day or date.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


class Plan(models.Model):
    """A selling plan: how often, and at what discount, a program's products renew."""

    class DiscountType(models.TextChoices):
        NONE = "none", "No discount"
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(SubscriptionProgram, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=200)
    interval_unit = models.CharField(max_length=8, choices=IntervalUnit.choices, default=IntervalUnit.MONTH)
    interval_count = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    discount_type = models.CharField(max_length=12, choices=DiscountType.choices, default=DiscountType.NONE)
    discount_value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    min_cycles = models.PositiveSmallIntegerField(null=True, blank=True)
    max_cycles = models.PositiveSmallIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program__name", "interval_unit", "interval_count"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_count__gte=1), name="plan_interval_positive"),
            models.CheckConstraint(condition=Q(discount_value__gte=0), name="plan_discount_not_negative"),
            models.CheckConstraint(
                condition=~Q(discount_type="percentage") | Q(discount_value__lte=100),
                name="plan_percentage_max_100",
            ),
            models.CheckConstraint(
                condition=Q(min_cycles__isnull=True)
                | Q(max_cycles__isnull=True)
                | Q(min_cycles__lte=models.F("max_cycles")),
                name="plan_min_cycles_le_max",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.name}: {self.name}"

    @property
    def frequency_label(self) -> str:
        unit = self.get_interval_unit_display()
        return f"every {unit}" if self.interval_count == 1 else f"every {self.interval_count} {unit}s"

    def unit_price(self, base: Decimal) -> Decimal:
        if self.discount_type == self.DiscountType.PERCENTAGE:
            return (base * (Decimal(100) - self.discount_value) / Decimal(100)).quantize(Decimal("0.01"))
        if self.discount_type == self.DiscountType.FIXED:
            return max(Decimal("0.00"), base - self.discount_value).quantize(Decimal("0.01"))
        return base


class Subscription(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "ACTIVE"
        PAUSED = "PAUSED", "PAUSED"
        CANCELLED = "CANCELLED", "CANCELLED"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="subscriptions")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    next_billing_date = models.DateField(null=True, blank=True)
    # Day of month renewals return to after a short month (see add_interval).
    anchor_day = models.PositiveSmallIntegerField(null=True, blank=True)
    auto_resume_date = models.DateField(null=True, blank=True)
    # The next billing date the upcoming-order notice last went out for (a hint that keeps the notice
    # scan to one index range; the Notice row's unique constraint is what makes it once-only).
    upcoming_notice_date = models.DateField(null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    order_count = models.PositiveIntegerField(default=0)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    shipping_address = models.ForeignKey(
        Address, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    external_id = models.CharField(max_length=64, blank=True, help_text="Shopify subscription contract id.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["ACTIVE", "PAUSED", "CANCELLED"]), name="subscription_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="ACTIVE") | Q(next_billing_date__isnull=False),
                name="active_subscription_has_next_date",
            ),
            models.CheckConstraint(
                condition=Q(auto_resume_date__isnull=True) | Q(status="PAUSED"),
                name="auto_resume_only_when_paused",
            ),
        ]
        indexes = [
            models.Index(fields=["shop", "status", "next_billing_date"], name="sub_due_idx"),
            # Covers the upcoming-notice scan (window + whether noticed) without reading the rows.
            models.Index(
                fields=["shop", "status", "next_billing_date", "upcoming_notice_date"],
                name="sub_notice_scan_idx",
            ),
            models.Index(fields=["shop", "status", "auto_resume_date"], name="sub_resume_idx"),
            models.Index(fields=["customer", "-created_at"], name="sub_customer_recent_idx"),
            # The portal's list of one customer's subscriptions (live first, newest first): with the shop
            # and the customer both in one index, no planner walks the whole shop through a shop index.
            models.Index(fields=["shop", "customer", "status", "-created_at"], name="sub_shop_customer_idx"),
            models.Index(fields=["shop", "external_id"], name="sub_external_idx"),
            # The console: newest-first lists, and the dashboard's new / cancelled per week.
            models.Index(fields=["shop", "created_at"], name="sub_shop_created_idx"),
            models.Index(fields=["shop", "cancelled_at"], name="sub_shop_cancelled_idx"),
            models.Index(fields=["shop", "status", "plan", "currency"], name="sub_shop_status_plan_idx"),
        ]

    def __str__(self) -> str:
        return f"Subscription #{self.pk} ({self.status})"

    def date_after(self, date: dt.date) -> dt.date:
        return add_interval(date, self.plan.interval_unit, self.plan.interval_count, self.anchor_day)


class SubscriptionLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="subscription_lines")
    quantity = models.PositiveIntegerField(default=1)
    # Price per unit for this subscriber, after the plan's discount; kept so a catalogue price change
    # does not silently reprice existing subscribers.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="line_price_not_negative"),
            models.UniqueConstraint(
                fields=["subscription", "variant"], name="line_variant_unique_per_subscription"
            ),
        ]
        indexes = [
            # The dashboard's MRR sums lines per subscription from this index alone.
            models.Index(fields=["subscription", "unit_price", "quantity"], name="line_amount_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant.sku}"

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


class SkippedDate(models.Model):
    """A billing date the customer chose to skip. Unskipping keeps the row for history."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="skips")
    date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    unskipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "date"],
                condition=Q(unskipped_at__isnull=True),
                name="one_active_skip_per_date",
            ),
        ]
        indexes = [
            # The notice scan reads a shop's active skips in its window without touching the table.
            models.Index(
                fields=["shop", "date", "subscription"],
                condition=Q(unskipped_at__isnull=True),
                name="skip_shop_date_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"skip {self.date}"


class Gift(models.Model):
    """The order of one billing date shipped to someone else."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="gifts")
    billing_date = models.DateField()
    recipient_first_name = models.CharField(max_length=100)
    recipient_last_name = models.CharField(max_length=100, blank=True)
    recipient_email = models.EmailField(blank=True)
    message = models.CharField(max_length=500, blank=True)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    province = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "billing_date"], name="one_gift_per_billing_date")
        ]

    def __str__(self) -> str:
        return f"gift to {self.recipient_first_name} on {self.billing_date}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Payment failed"
        CANCELLED = "cancelled", "Cancelled"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    billing_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_address = models.JSONField(default=dict, blank=True)
    is_gift = models.BooleanField(default=False)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="Shopify order id, once created there."
    )
    shopify_order_name = models.CharField(
        max_length=64, blank=True, help_text="The order's name in Shopify, for example #1001."
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Dunning: which attempt comes next and when (shop-local date); empty when nothing is scheduled.
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_retry_date = models.DateField(null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    # A billing worker holds a pending charge until this time (crash-safe claim).
    charging_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Exactly one renewal per subscription and billing date.
            models.UniqueConstraint(
                fields=["subscription", "billing_date"],
                condition=Q(subscription__isnull=False, billing_date__isnull=False),
                name="one_order_per_subscription_billing_date",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
        ]
        indexes = [
            models.Index(fields=["shop", "-created_at"], name="order_shop_recent_idx"),
            models.Index(fields=["shop", "status", "next_retry_date"], name="order_dunning_idx"),
            # The console dashboard's revenue of the last 30 days.
            models.Index(fields=["shop", "paid_at"], name="order_shop_paid_idx"),
            # The portal's order lists (a customer's, a subscription's), newest first.
            models.Index(fields=["customer", "-created_at"], name="order_customer_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Order #{self.pk}"


class OrderLine(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=255)
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class DiscountCode(models.Model):
    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage"
        FIXED = "fixed", "Fixed amount"

    class AppliesTo(models.TextChoices):
        ONE_TIME = "one_time", "One-time purchases"
        SUBSCRIPTION = "subscription", "Subscriptions"
        BOTH = "both", "Both"

    class Duration(models.TextChoices):
        FIRST_PAYMENT = "first_payment", "First payment only"
        RECURRING = "recurring", "A number of recurring payments"
        ALL = "all", "All payments"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="discount_codes")
    code = models.CharField(max_length=64, help_text="Stored in capitals; customers may type it in any case.")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PERCENTAGE)
    value = models.DecimalField(max_digits=10, decimal_places=2)
    applies_to = models.CharField(max_length=12, choices=AppliesTo.choices, default=AppliesTo.BOTH)
    duration = models.CharField(max_length=16, choices=Duration.choices, default=Duration.ALL)
    recurring_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For 'a number of recurring payments'."
    )
    active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "code"], name="discount_code_unique_per_shop"),
            models.CheckConstraint(condition=Q(value__gt=0), name="discount_value_positive"),
            models.CheckConstraint(
                condition=~Q(kind="percentage") | Q(value__lte=100), name="discount_percentage_max_100"
            ),
            models.CheckConstraint(
                condition=~Q(duration="recurring") | Q(recurring_count__gte=1),
                name="recurring_discount_has_count",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)

    def clean(self):
        if self.kind == self.Kind.PERCENTAGE and self.value is not None and self.value > 100:
            raise ValidationError({"value": "A percentage discount cannot exceed 100."})
        if self.duration == self.Duration.RECURRING and not self.recurring_count:
            raise ValidationError({"recurring_count": "Say for how many recurring payments the code lasts."})

    def amount_off(self, subtotal: Decimal) -> Decimal:
        if self.kind == self.Kind.PERCENTAGE:
            off = subtotal * self.value / Decimal(100)
        else:
            off = self.value
        return min(subtotal, off).quantize(Decimal("0.01"))


class SubscriptionDiscount(models.Model):
    """A discount code applied to a subscription; billing decrements `payments_remaining`."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="discounts")
    code = models.ForeignKey(DiscountCode, on_delete=models.PROTECT, related_name="applications")
    payments_remaining = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty means every payment."
    )
    applied_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "code"],
                condition=Q(removed_at__isnull=True),
                name="discount_applied_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code.code} on #{self.subscription_id}"


class ActivityLog(models.Model):
    class ActorType(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        ADMIN = "admin", "Admin"
        API = "api", "API"
        INTEGRATION = "integration", "Integration"
        SYSTEM = "system", "System"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, null=True, blank=True, related_name="activity"
    )
    actor_type = models.CharField(max_length=12, choices=ActorType.choices)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    description = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["shop", "-created_at"], name="activity_shop_recent_idx"),
            models.Index(fields=["subscription", "-created_at"], name="activity_sub_recent_idx"),
            models.Index(fields=["customer", "-created_at"], name="activity_customer_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor} {self.action}"

    @property
    def actor(self) -> str:
        if self.actor_type == self.ActorType.INTEGRATION:
            return f"integration:{self.actor_name}"
        return f"{self.actor_type}:{self.actor_name}" if self.actor_name else self.actor_type


# ---------------------------------------------------------------- billing


class PaymentAttempt(models.Model):
    """One charge attempt of an order (Smartrr calls these bills). The idempotency key goes to the
    gateway, so a retried request can never charge a cycle twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ERROR = "error", "Gateway unreachable"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payment_attempts")
    number = models.PositiveSmallIntegerField(help_text="1 for the renewal, 2.. for dunning retries.")
    idempotency_key = models.CharField(max_length=120, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    gateway = models.CharField(max_length=16)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    gateway_reference = models.CharField(max_length=120, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "number"]
        constraints = [
            # Once-only per (subscription cycle, attempt): the order is the cycle.
            models.UniqueConstraint(fields=["order", "number"], name="one_payment_attempt_per_number"),
        ]

    def __str__(self) -> str:
        return f"{self.order} attempt {self.number}: {self.status}"


class BillingRun(models.Model):
    """A shop's daily billing run for one local date: exactly one per (shop, date)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="billing_runs")
    run_date = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    charged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-run_date"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "run_date"], name="one_billing_run_per_shop_date")
        ]

    def __str__(self) -> str:
        return f"{self.shop} billing {self.run_date}"


class Notice(models.Model):
    """A scheduled notice sent: exactly once per (subscription, kind, date)."""

    class Kind(models.TextChoices):
        UPCOMING_ORDER = "upcoming_order", "Upcoming order"
        AUTO_RESUME = "auto_resume_upcoming", "Auto-resume upcoming"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    date = models.DateField(help_text="The order date (or resume date) the notice announces.")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind", "date"], name="one_notice_per_subscription_kind_date"
            )
        ]
        indexes = [
            # The notice scan reads a shop's notices in its window without touching the table.
            models.Index(fields=["shop", "kind", "date", "subscription"], name="notice_shop_kind_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.date} for #{self.subscription_id}"


class SandboxCharge(models.Model):
    """What the built-in test gateway has charged, by idempotency key (a real gateway keeps this)."""

    idempotency_key = models.CharField(max_length=120, unique=True)
    token = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.reference} {self.outcome}"
