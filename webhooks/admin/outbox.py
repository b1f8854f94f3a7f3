"""The event outbox in the merchant console: read-only, each shop sees its own events."""

import json

from django.contrib import admin
from django.http import Http404
from django.utils.html import format_html

from webhooks.admin.scoping import ShopScopedAdmin
from webhooks.models import OutboxEvent


class RelayStateFilter(admin.SimpleListFilter):
    title = "relay"
    parameter_name = "relayed"

    def lookups(self, request, model_admin):
        return (("no", "Waiting"), ("yes", "Relayed"))

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(relayed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(relayed_at__isnull=False)
        return queryset


@admin.register(OutboxEvent)
class OutboxEventAdmin(ShopScopedAdmin, admin.ModelAdmin):
    list_display = ("occurred_at", "type", "actor", "relayed_at")
    list_filter = ("type", RelayStateFilter, ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("type", "actor")
    ordering = ("-occurred_at",)
    fields = ("id", "type", "version", "actor", "occurred_at", "relayed_at", "pretty_payload")
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return [*display, "shop_id"] if request.user.is_superuser else display

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return [*fields, "shop_id"] if request.user.is_superuser else fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="payload")
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with that id.")
