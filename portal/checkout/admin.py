"""Hosted checkout in the merchant console: the shop's checkout settings (one-time purchases) and
the checkouts placed (read-only: what was charged, refunds after a failed save). Scoped to the
staff user's shop like every console page."""

from django.contrib import admin

from portal.checkout.models import Checkout, CheckoutSettings
from subscriptions.admin.tenancy import ConsoleModelAdmin


@admin.register(CheckoutSettings)
class CheckoutSettingsAdmin(ConsoleModelAdmin):
    list_display = ("shop", "allow_one_time_purchase")
    fields = ("shop", "allow_one_time_purchase")

    def get_readonly_fields(self, request, obj=None):
        return ("shop",) if obj is not None or not request.user.is_superuser else ()

    def has_add_permission(self, request, *args):
        # One row per shop: staff whose shop has one edit it instead.
        shop_id = self.console_shop_id(request)
        if shop_id is not None and CheckoutSettings.objects.filter(shop_id=shop_id).exists():
            return False
        return super().has_add_permission(request, *args)

    def save_model(self, request, obj, form, change):
        if not change and not obj.shop_id:
            obj.shop_id = self.console_shop_id(request)
        super().save_model(request, obj, form, change)


@admin.register(Checkout)
class CheckoutAdmin(ConsoleModelAdmin):
    list_display = ("token", "status", "customer", "amount", "currency", "charge_reference", "created_at")
    list_filter = ("status",)
    list_select_related = ("customer",)
    search_fields = ("token", "customer__email", "charge_reference")
    readonly_fields = (
        "shop",
        "token",
        "status",
        "attempt",
        "customer",
        "subscription_ids",
        "order_ids",
        "gateway",
        "charge_reference",
        "amount",
        "currency",
        "refunds",
        "created_at",
        "completed_at",
    )
    exclude = ("stripe_customer_id",)

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
