"""The event outbox in the merchant console: read-only, each shop sees its own events.

`webhooks` imports no other app, so the shop scoping is done here by id, from the console user's
`membership` (set up by the subscriptions app) when there is one.
"""

import json

from django import forms
from django.contrib import admin
from django.http import Http404
from django.utils.html import format_html

from webhooks import services
from webhooks.errors import InvalidEndpoint
from webhooks.models import OutboxEvent, WebhookEndpoint
from webhooks.registry import event_types

FULL_ACCESS_ROLES = frozenset({"owner"})


def _membership(user):
    return getattr(user, "membership", None)


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
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "type", "actor", "relayed_at")
    list_filter = ("type", RelayStateFilter, ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("type", "actor")
    ordering = ("-occurred_at",)
    fields = ("id", "type", "version", "actor", "occurred_at", "relayed_at", "pretty_payload")
    readonly_fields = fields
    list_per_page = 50
    show_full_result_count = False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        membership = _membership(user)
        if membership is None or not user.is_active or not user.is_staff:
            return queryset.none()
        return queryset.filter(shop_id=membership.shop_id)

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return [*display, "shop_id"] if request.user.is_superuser else display

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        return [*fields, "shop_id"] if request.user.is_superuser else fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def _granted(self, request, permitted: bool, obj=None) -> bool:
        user = request.user
        if user.is_superuser:
            return permitted
        membership = _membership(user)
        if membership is None or not user.is_active or not user.is_staff:
            return False
        if obj is not None and obj.shop_id != membership.shop_id:
            return False
        return permitted or membership.role in FULL_ACCESS_ROLES

    def has_module_permission(self, request):
        return self._granted(request, super().has_module_permission(request))

    def has_view_permission(self, request, obj=None):
        return self._granted(request, super().has_view_permission(request, obj), obj)

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


# ---------------------------------------------------------------- merchant webhook endpoints


def _event_choices():
    return [
        (event.type, f"{event.seed_name or event.type} — {event.meaning}" if event.seed_name else event.type)
        for event in sorted(event_types().values(), key=lambda e: e.type)
    ]


class WebhookEndpointForm(forms.ModelForm):
    """Validates with the same rules as the API (webhooks.services), naming the field at fault."""

    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=_event_choices, widget=forms.CheckboxSelectMultiple, help_text="Events sent to this URL."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["shop_id", "url", "events", "description", "enabled"]
        labels = {"url": "URL", "shop_id": "Shop id"}

    def clean(self):
        cleaned = super().clean()
        for field, check in (("url", services.validate_url), ("events", services.validate_events)):
            if field in cleaned:
                try:
                    cleaned[field] = check(cleaned[field])
                except InvalidEndpoint as exc:
                    self.add_error(field, exc.message)
        return cleaned


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Integrations > Webhooks: the shop's endpoints. Writes go through webhooks.services."""

    form = WebhookEndpointForm
    list_display = ("url", "event_summary", "enabled", "disabled_reason", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    readonly_fields = ("secret", "disabled_reason", "created_at", "updated_at")

    # -- tenancy (by id: webhooks imports no other app) ----------------------------------------
    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        user = request.user
        if user.is_superuser:
            return queryset
        membership = _membership(user)
        if membership is None or not user.is_active or not user.is_staff:
            return queryset.none()
        return queryset.filter(shop_id=membership.shop_id)

    def _granted(self, request, permitted: bool, obj=None) -> bool:
        user = request.user
        if user.is_superuser:
            return permitted
        membership = _membership(user)
        if membership is None or not user.is_active or not user.is_staff:
            return False
        if obj is not None and obj.shop_id != membership.shop_id:
            return False
        return permitted or membership.role in FULL_ACCESS_ROLES

    def has_module_permission(self, request):
        return self._granted(request, super().has_module_permission(request))

    def has_view_permission(self, request, obj=None):
        return self._granted(request, super().has_view_permission(request, obj), obj)

    def has_add_permission(self, request):
        return self._granted(request, super().has_add_permission(request))

    def has_change_permission(self, request, obj=None):
        return self._granted(request, super().has_change_permission(request, obj), obj)

    def has_delete_permission(self, request, obj=None):
        return self._granted(request, super().has_delete_permission(request, obj), obj)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with that id.")

    # -- pages --------------------------------------------------------------------------------
    def get_fields(self, request, obj=None):
        fields = ["url", "events", "description", "enabled"]
        if obj is not None:
            fields += ["secret", "disabled_reason", "created_at", "updated_at"]
        if request.user.is_superuser:
            # The shop is fixed once the endpoint exists: its secret and deliveries belong to it.
            fields = [*(["shop_id"] if obj is None else []), *fields]
        return fields

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return [*display, "shop_id"] if request.user.is_superuser else display

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.endpoint_update(
                endpoint=obj,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
            )
        else:
            shop_id = data["shop_id"] if request.user.is_superuser else _membership(request.user).shop_id
            saved = services.endpoint_create(
                shop_id=shop_id,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
            )
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    @admin.display(description="events")
    def event_summary(self, obj) -> str:
        known = event_types()
        names = [known[e].seed_name or e if e in known else e for e in obj.events]
        return ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
