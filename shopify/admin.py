"""The Shopify pages of the console: catalogue imports (with "Import catalogue now") and privacy
requests (what Shopify asked and what was done; a data request's export to send on). The store
connection itself is a card on the Integrations page."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from shopify.connection import store_connection
from shopify.models import CatalogueImport, PrivacyRequest
from subscriptions.models import Shop
from webhooks.admin.scoping import ShopScopedAdmin, membership


class ReadOnly:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CatalogueImport)
class CatalogueImportAdmin(ReadOnly, ShopScopedAdmin, admin.ModelAdmin):
    list_display = ("started_at", "shop", "state", "products", "variants", "finished_at", "error")
    list_filter = ("state",)
    change_list_template = "admin/shopify/catalogueimport/change_list.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("start/", wrap(self.start_view), name="shopify_catalogueimport_start"),
            *super().get_urls(),
        ]

    def _shop(self, request) -> Shop | None:
        if request.user.is_superuser:
            shop_id = request.POST.get("shop")
            return Shop.objects.filter(pk=shop_id).first() if str(shop_id or "").isdigit() else None
        found = membership(request.user)
        return found.shop if found is not None else None

    def start_view(self, request):
        """Import the catalogue again now (a new import also runs when the store is connected)."""
        from shopify.tasks import catalogue_import_task

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        shop = self._shop(request)
        back = HttpResponseRedirect(reverse("admin:shopify_catalogueimport_changelist"))
        if shop is None:
            self.message_user(request, "Choose a shop.", messages.ERROR)
            return back
        if store_connection(shop) is None:
            self.message_user(
                request, "Connect your Shopify store first (Integrations > Shopify).", messages.ERROR
            )
            return back
        catalogue_import_task.delay(shop.pk)
        self.message_user(request, "The catalogue import has started.", messages.SUCCESS)
        return back

    def changelist_view(self, request, extra_context=None):
        shops = Shop.objects.order_by("name") if request.user.is_superuser else None
        return super().changelist_view(request, {**(extra_context or {}), "shops": shops})


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(ReadOnly, ShopScopedAdmin, admin.ModelAdmin):
    list_display = ("received_at", "shop", "topic", "customer", "shopify_customer_id", "outcome")
    list_filter = ("topic",)
    fields = (
        "shop",
        "topic",
        "customer",
        "shopify_customer_id",
        "data_request_id",
        "outcome",
        "received_at",
        "completed_at",
        "export_json",
    )
    readonly_fields = fields

    @admin.display(description="Export")
    def export_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.export, indent=2, ensure_ascii=False))
