"""Orders and the activity log: history, read-only in the console."""

from django.contrib import admin

from subscriptions.admin.filters import DateRangeFilter
from subscriptions.admin.tenancy import ConsoleModelAdmin, ConsoleTabularInline, ReadOnlyInlineMixin
from subscriptions.models import ActivityLog, Order, OrderLine


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
    )
    list_display_links = ("id",)
    list_select_related = ("customer", "subscription")
    list_filter = ("status", "is_gift", ("billing_date", DateRangeFilter))
    search_fields = ("id__exact", "customer__email", "customer__last_name", "lines__sku", "external_id")
    ordering = ("-created_at", "-id")
    inlines = (OrderLineInline,)


@admin.register(ActivityLog)
class ActivityLogAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("created_at", "actor", "action", "description", "customer", "subscription")
    list_select_related = ("customer", "subscription")
    list_filter = ("actor_type", "action", ("created_at", admin.DateFieldListFilter))
    search_fields = ("description", "action", "customer__email", "actor_name")
    ordering = ("-created_at", "-id")
