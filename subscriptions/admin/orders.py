"""Orders and the activity log: history, read-only in the console. Failed payments (dunning) are
watched here: a filter, their retry columns, a summary and a "Retry payment now" action."""

from django.contrib import admin, messages
from django.db.models import Q

from subscriptions.actors import Actor
from subscriptions.admin.filters import DateRangeFilter
from subscriptions.admin.tenancy import ConsoleModelAdmin, ConsoleTabularInline, ReadOnlyInlineMixin
from subscriptions.models import ActivityLog, Order, OrderLine, PaymentAttempt
from subscriptions.selectors import (
    PAYMENT_FAILING,
    PAYMENT_GIVEN_UP,
    PAYMENT_RECOVERED,
    dunning_summary,
)
from subscriptions.services.billing import order_retry_payment

DUNNING_COLUMNS = ("attempt_count", "next_retry_date", "failure_reason")


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = OrderLine
    fields = ("title", "sku", "quantity", "unit_price", "total")
    readonly_fields = fields


class PaymentAttemptInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = PaymentAttempt
    fields = ("number", "status", "amount", "currency", "gateway", "error_code", "message", "created_at")
    readonly_fields = fields
    ordering = ("number",)
    verbose_name = "payment attempt"


class PaymentFailedFilter(admin.SimpleListFilter):
    title = "payment failed"
    parameter_name = "payment_failed"
    CHOICES = {
        "retrying": ("Retrying", PAYMENT_FAILING),
        "given_up": ("Given up", PAYMENT_GIVEN_UP),
        "recovered": ("Recovered by a retry", PAYMENT_RECOVERED),
        "any": ("Any failed payment", Q(attempt_count__gt=1) | ~Q(failure_reason="")),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.CHOICES.items()]

    def queryset(self, request, queryset):
        choice = self.CHOICES.get(self.value())
        return queryset.filter(choice[1]) if choice else queryset


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = (
        "id",
        "customer",
        "subscription",
        "billing_date",
        "status",
        "total",
        "currency",
        "is_gift",
        "shopify_order_name",
    )
    list_display_links = ("id",)
    list_select_related = ("customer", "subscription")
    list_filter = ("status", PaymentFailedFilter, "is_gift", ("billing_date", DateRangeFilter))
    search_fields = (
        "id__exact",
        "customer__email",
        "customer__last_name",
        "lines__sku",
        "external_id",
        "shopify_order_name",
    )
    ordering = ("-created_at", "-id")
    inlines = (OrderLineInline, PaymentAttemptInline)
    actions = ("retry_payment_now",)
    change_list_template = "admin/subscriptions/order/change_list.html"

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        # The retry columns where failed payments are being looked at.
        if (
            request.GET.get(PaymentFailedFilter.parameter_name)
            or request.GET.get("status__exact") == "failed"
        ):
            display[display.index("total") : display.index("total")] = DUNNING_COLUMNS
        return display

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "dunning_summary": dunning_summary(orders=self.get_queryset(request)),
        }
        return super().changelist_view(request, extra_context)

    def has_retry_permission(self, request) -> bool:
        # Retrying a charge is a change to the order, made by the billing service.
        return self.granted(request, request.user.has_perm("subscriptions.change_order"))

    @admin.action(description="Retry payment now", permissions=["retry"])
    def retry_payment_now(self, request, queryset):
        actor = Actor.admin(request.user)
        outcomes: dict[str, list[str]] = {}
        for order in queryset.order_by("pk"):
            if order.status != Order.Status.FAILED:
                outcomes.setdefault("skipped", []).append(f"#{order.pk}")
                continue
            status = order_retry_payment(order=order, actor=actor)
            outcomes.setdefault(status, []).append(f"#{order.pk}")
        if outcomes.get(Order.Status.PAID):
            paid = outcomes[Order.Status.PAID]
            self.message_user(request, f"Paid {len(paid)} order(s): {', '.join(paid)}.", messages.SUCCESS)
        still = outcomes.get(Order.Status.FAILED, []) + outcomes.get(Order.Status.PENDING, [])
        if still:
            self.message_user(
                request,
                f"Payment failed again for {len(still)} order(s): {', '.join(still)}.",
                messages.WARNING,
            )
        if outcomes.get("skipped"):
            skipped = outcomes["skipped"]
            self.message_user(
                request,
                f"Not retried (only a failed payment can be retried): {', '.join(skipped)}.",
                messages.ERROR,
            )


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("created_at", "actor", "action", "description", "customer", "subscription")
    list_select_related = ("customer", "subscription")
    list_filter = ("actor_type", "action", ("created_at", admin.DateFieldListFilter))
    search_fields = ("description", "action", "customer__email", "actor_name")
    ordering = ("-created_at", "-id")
