"""Customers in the console: details, their subscriptions, address book, cards and activity."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.admin.subscription import lines_total_subquery
from subscriptions.admin.tenancy import (
    ConsoleModelAdmin,
    ConsoleTabularInline,
    ReadOnlyInlineMixin,
    ShopScopedModelForm,
)
from subscriptions.admin.timeline import render_timeline
from subscriptions.models import Address, Customer, PaymentMethod, Subscription
from subscriptions.services.customers import CUSTOMER_FIELDS


class CustomerForm(ShopScopedModelForm):
    class Meta:
        model = Customer
        fields = "__all__"

    def clean_email(self):
        # The service stores emails in lower case; compare the same way for the per-shop uniqueness.
        return (self.cleaned_data.get("email") or "").strip().lower()


class SubscriptionSummaryInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = Subscription
    fields = ("subscription_link", "status", "plan", "next_billing_date", "order_count", "total")
    readonly_fields = fields
    verbose_name_plural = "subscriptions"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("plan__program")
            .annotate(lines_total=lines_total_subquery())
        )

    @admin.display(description="subscription")
    def subscription_link(self, obj):
        return format_html(
            '<a href="{}">#{}</a>', reverse("admin:subscriptions_subscription_change", args=[obj.pk]), obj.pk
        )

    @admin.display(description="total")
    def total(self, obj):
        amount = getattr(obj, "lines_total", None)
        return f"{amount:.2f} {obj.currency}" if amount is not None else "—"


class AddressInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = Address
    fields = ("first_name", "last_name", "line1", "line2", "city", "province", "postal_code", "country")
    readonly_fields = fields
    verbose_name_plural = "address book"


class PaymentMethodInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = PaymentMethod
    fields = ("gateway", "brand", "last4", "exp_month", "exp_year", "created_at")
    readonly_fields = fields


@admin.register(Customer)
class CustomerAdmin(ConsoleModelAdmin):
    logs_own_activity = True  # saved through the services, which log
    form = CustomerForm
    list_display = (
        "email",
        "full_name",
        "subscriber_since",
        "has_logged_in",
        "subscription_count",
        "active_subscription_count",
    )
    list_filter = ("has_logged_in",)
    search_fields = ("email", "first_name", "last_name", "phone", "external_id")
    ordering = ("-created_at", "-id")
    inlines = (SubscriptionSummaryInline, AddressInline, PaymentMethodInline)
    fieldsets = (
        (None, {"fields": ("email", "first_name", "last_name", "phone", "external_id")}),
        ("Status", {"fields": ("subscriber_since", "has_logged_in", "created_at", "updated_at")}),
        ("Activity", {"fields": ("timeline",)}),
    )
    readonly_fields = ("subscriber_since", "has_logged_in", "created_at", "updated_at", "timeline")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                subscription_total=Count("subscriptions", distinct=True),
                subscription_active=Count(
                    "subscriptions",
                    filter=Q(subscriptions__status=Subscription.Status.ACTIVE),
                    distinct=True,
                ),
            )
            .order_by("-created_at", "-id")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The portal's view-as URL by name: the console does not import the portal app.
        extra_context = dict(extra_context or {})
        try:
            extra_context["view_as_customer_url"] = reverse("portal:view_as", args=[int(object_id)])
        except (NoReverseMatch, ValueError):
            pass
        return super().change_view(request, object_id, form_url, extra_context)

    def get_inlines(self, request, obj):
        # Subscriptions, addresses and cards are added through their own actions, not here.
        return self.inlines if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        # Customers carry orders and history; there is no service to erase them.
        return False

    @admin.display(description="name", ordering="last_name")
    def full_name(self, obj):
        return obj.full_name or "—"

    @admin.display(description="subscriptions", ordering="subscription_total")
    def subscription_count(self, obj):
        return obj.subscription_total

    @admin.display(description="active", ordering="subscription_active")
    def active_subscription_count(self, obj):
        return obj.subscription_active

    @admin.display(description="activity (newest first)")
    def timeline(self, obj):
        return render_timeline(customer=obj) if obj.pk else ""

    def save_model(self, request, obj, form, change):
        """Saved through the customer services, so the activity log records the change."""
        actor = Actor.admin(request.user)
        values = {name: form.cleaned_data[name] for name in CUSTOMER_FIELDS if name in form.cleaned_data}
        if change:
            saved = services.customer_update(
                customer=obj, actor=actor, email=form.cleaned_data["email"], **values
            )
        else:
            shop = form.cleaned_data.get("shop") if request.user.is_superuser else None
            saved = services.customer_create(
                shop=shop or obj.shop, email=form.cleaned_data["email"], actor=actor, **values
            )
        # The admin goes on with `obj` (log entry, redirect): give it the saved row's state.
        for field in Customer._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db
