"""Integrations > API Keys in the merchant console.

A key's secret is shown once, on the page that answers its creation, and never again: only its
prefix and a salted hash are stored. Keys are revoked, not deleted, so their history stays.
Staff see and create only their own shop's keys; a superuser sees every shop's.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from integrations.models import RESOURCES, Access, ApiKey
from integrations.services import api_key_create, api_key_expiry, api_key_revoke
from subscriptions.errors import DomainError
from subscriptions.models import Shop
from webhooks.admin.scoping import ShopScopedAdmin
from webhooks.admin.scoping import membership as _membership

PERMISSION_FIELDS = [f"perm_{resource}" for resource in RESOURCES]


class ApiKeyCreateForm(forms.ModelForm):
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The key stops working at the start of this day (shop time).",
    )

    class Meta:
        model = ApiKey
        fields = ["shop", "token_nickname", "application_nickname", *PERMISSION_FIELDS]
        help_texts = {
            "token_nickname": "What this key is for, e.g. “Gorgias helpdesk”.",
            "application_nickname": "The application that uses it, e.g. “Gorgias”.",
        }

    def clean_expires_on(self):
        date = self.cleaned_data.get("expires_on")
        if date is not None and date <= timezone.localdate():
            raise forms.ValidationError("Choose a date in the future.")
        return date

    def permissions(self) -> dict[str, str]:
        return {resource: self.cleaned_data.get(f"perm_{resource}", Access.NONE) for resource in RESOURCES}


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True).exclude(expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ShopScopedAdmin, admin.ModelAdmin):
    form = ApiKeyCreateForm
    list_display = (
        "token_nickname",
        "application_nickname",
        "prefix",
        "permissions_summary",
        "created_at",
        "last_used_at",
        "expires_at",
        "key_state",
    )
    list_filter = (KeyStateFilter,)
    search_fields = ("token_nickname", "application_nickname", "prefix")
    actions = ["revoke_keys"]
    change_form_template = "admin/integrations/apikey/change_form.html"
    # Never `salt` or `hashed_secret`: they are not shown anywhere.
    view_fields = (
        "token_nickname",
        "application_nickname",
        "prefix",
        "permissions_summary",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "key_state",
    )

    # -- tenancy: ShopScopedAdmin (own shop only; another shop's key is a 404) ----------------
    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shop")

    def has_change_permission(self, request, obj=None):
        # A key is never edited: create a new one and revoke the old (partners see the change).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request, obj=None):
        return self._granted(request, admin.ModelAdmin.has_change_permission(self, request, obj), obj)

    # -- pages --------------------------------------------------------------------------------
    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.view_fields
        fields = ["shop", "token_nickname", "application_nickname", *PERMISSION_FIELDS, "expires_on"]
        return fields if request.user.is_superuser else fields[1:]

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "shop":
            kwargs["queryset"] = Shop.objects.order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Creation goes through the service, which returns the full key exactly once."""
        shop = form.cleaned_data.get("shop") if request.user.is_superuser else _membership(request.user).shop
        expires_on = form.cleaned_data.get("expires_on")
        try:
            key, raw = api_key_create(
                shop=shop,
                token_nickname=form.cleaned_data["token_nickname"],
                application_nickname=form.cleaned_data.get("application_nickname", ""),
                permissions=form.permissions(),
                expires_at=api_key_expiry(shop=shop, date=expires_on) if expires_on else None,
            )
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
        obj.pk = key.pk
        obj.__dict__.update({k: v for k, v in key.__dict__.items() if not k.startswith("_")})
        request._new_api_key = raw

    def save_related(self, request, form, formsets, change):
        pass  # an API key has no related rows to save from the form

    def log_addition(self, request, obj, message):
        return super().log_addition(request, obj, f"Created API key {obj.prefix}…")

    def response_add(self, request, obj, post_url_continue=None):
        """A page with the full key: shown now and never again (it is not stored)."""
        raw = getattr(request, "_new_api_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Copy your new API key",
            "key": obj,
            "raw_key": raw,
            "changelist_url": reverse("admin:integrations_apikey_changelist"),
        }
        response = TemplateResponse(request, "admin/integrations/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def get_urls(self):
        return [
            path(
                "<path:object_id>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="integrations_apikey_revoke",
            ),
            *super().get_urls(),
        ]

    def revoke_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        key = self.get_object(request, object_id)
        if key is None:
            raise Http404("No API key with that id.")
        if not self.has_revoke_permission(request, key):
            raise PermissionDenied
        api_key_revoke(api_key=key)
        self.log_change(request, key, "Revoked")
        self.message_user(
            request, f"API key “{key}” is revoked: requests with it now fail.", messages.SUCCESS
        )
        return HttpResponseRedirect(reverse("admin:integrations_apikey_change", args=[key.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_revoke"] = (
            obj is not None and obj.revoked_at is None and self.has_revoke_permission(request, obj)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- list ---------------------------------------------------------------------------------
    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return [*display, "shop"] if request.user.is_superuser else display

    @admin.display(description="permissions")
    def permissions_summary(self, obj) -> str:
        parts = [
            f"{obj._meta.get_field(f'perm_{r}').verbose_name}: {'read and write' if obj.access(r) == Access.WRITE else 'read'}"
            for r in RESOURCES
            if obj.access(r) != Access.NONE
        ]
        return ", ".join(parts) or "none"

    @admin.display(description="state")
    def key_state(self, obj) -> str:
        return obj.state

    @admin.action(description="Revoke selected API keys", permissions=["revoke"])
    def revoke_keys(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(api_key=key)
            self.log_change(request, key, "Revoked")
            count += 1
        self.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


# Integrations > partners (Klaviyo, Shopify Flow, ...) and the guided Blueprint set-up.
from integrations import partner_admin  # noqa: E402, F401
