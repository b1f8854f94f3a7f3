"""Every delivery of the shop's events (webhooks and integrations), read-only, with bulk replay."""

import json
import uuid

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from webhooks import engine
from webhooks.admin.scoping import ShopScopedAdmin, shop_id_of
from webhooks.endpoints import KIND
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.registry import event_types


class EventTypeFilter(admin.SimpleListFilter):
    """Choices from the catalogue: no query, and no other shop's event types."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        return [(t, e.seed_name or t) for t, e in sorted(event_types().items())]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class DestinationFilter(admin.SimpleListFilter):
    """The shop's webhook endpoints, one by one, and each other kind of destination (integrations)."""

    title = "destination"
    parameter_name = "destination"

    def lookups(self, request, model_admin):
        endpoints = WebhookEndpoint.objects.order_by("url", "pk")
        if not request.user.is_superuser:
            endpoints = endpoints.filter(shop_id=shop_id_of(request.user))
        choices = [(f"{KIND}:{e.pk}", e.url) for e in endpoints.only("pk", "url")]
        choices += [
            (kind, kind.replace("_", " ").capitalize())
            for kind in sorted(engine.destinations())
            if kind != KIND
        ]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        kind, _, destination_id = value.partition(":")
        queryset = queryset.filter(destination_kind=kind)
        return queryset.filter(destination_id=destination_id) if destination_id else queryset


@admin.register(Delivery)
class DeliveryAdmin(ShopScopedAdmin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "destination",
        "status",
        "attempt_count",
        "last_status_code",
        "last_error",
        "delivered_at",
    )
    list_filter = ("status", EventTypeFilter, DestinationFilter, ("created_at", admin.DateFieldListFilter))
    ordering = ("-created_at",)
    search_fields = ("event_type", "destination_id", "last_error")
    actions = ["replay_selected"]
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "id",
        "event_type",
        "destination",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created_at",
        "delivered_at",
        "attempt_log",
        "payload",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")

    def get_search_results(self, request, queryset, search_term):
        """A webhook-id (what the receiver logged) finds its delivery too."""
        queryset, duplicates = super().get_search_results(request, queryset, search_term)
        try:
            webhook_id = uuid.UUID(search_term.strip())
        except ValueError:
            return queryset, duplicates
        return queryset | self.get_queryset(request).filter(pk=webhook_id), duplicates

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_replay_permission(self, request):
        return self._granted(request, self.has_view_permission(request))

    @admin.action(description="Replay the selected deliveries (same webhook-id)", permissions=["replay"])
    def replay_selected(self, request, queryset):
        count = engine.replay(list(queryset.values_list("pk", flat=True)))
        messages.success(request, f"{count} deliveries are being sent again.")

    @admin.display(description="destination")
    def destination(self, obj) -> str:
        if obj.destination_kind == KIND:
            url = reverse("admin:webhooks_webhookendpoint_change", args=[obj.destination_id])
            return format_html('<a href="{}">Webhook endpoint #{}</a>', url, obj.destination_id)
        return f"{obj.destination_kind}:{obj.destination_id}"

    @admin.display(description="attempts")
    def attempt_log(self, obj):
        attempts = obj.attempts.order_by("number")
        if not attempts:
            return "No attempt yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td><code>{}</code></td><td>{}</td></tr>",
            (
                (
                    a.number,
                    a.started_at,
                    a.status_code or "—",
                    a.duration_ms,
                    a.response_excerpt[:300],
                    a.error,
                )
                for a in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>#</th><th>Started</th><th>Status code</th><th>Duration</th>"
            "<th>Response</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="payload")
    def payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.event.payload, indent=2))
