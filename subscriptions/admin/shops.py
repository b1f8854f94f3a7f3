"""Shops and who works for them. Staff see and edit their own shop's settings only."""

from django.contrib import admin
from django.db import models

from subscriptions.admin.tenancy import ConsoleModelAdmin
from subscriptions.models import Shop, StaffMembership


@admin.register(Shop)
class ShopAdmin(ConsoleModelAdmin):
    list_display = ("name", "domain", "currency", "timezone", "billing_time")
    search_fields = ("name", "domain")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "domain", "currency", "timezone", "date_format", "language")}),
        ("Customer portal branding", {"fields": ("logo_url", "brand_color")}),
        ("Billing", {"fields": ("billing_time", "upcoming_notice_days")}),
        (
            "Failed payments and unavailable products",
            {
                "fields": (
                    "dunning_retries",
                    "dunning_retry_interval_days",
                    "dunning_final_action",
                    "unavailable_product_action",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # The domain ties the shop to its storefront; only the platform moves it.
            readonly.append("domain")
        return readonly

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    """Only superusers assign console users to shops: a shop's staff could otherwise give
    themselves another shop."""

    list_display = ("user", "shop", "role")
    list_select_related = ("user", "shop")
    search_fields = ("user__username", "user__email", "shop__name")
    raw_id_fields = ("user",)

    def _superuser_only(self, request, permitted: bool) -> bool:
        return request.user.is_superuser and permitted

    def has_module_permission(self, request):
        return self._superuser_only(request, super().has_module_permission(request))

    def has_view_permission(self, request, obj=None):
        return self._superuser_only(request, super().has_view_permission(request, obj))

    def has_add_permission(self, request):
        return self._superuser_only(request, super().has_add_permission(request))

    def has_change_permission(self, request, obj=None):
        return self._superuser_only(request, super().has_change_permission(request, obj))

    def has_delete_permission(self, request, obj=None):
        return self._superuser_only(request, super().has_delete_permission(request, obj))
