"""Tenancy for the merchant console: a staff user sees and changes only their own shop's rows.

Every console model admin mixes in `ShopScopedAdminMixin`. It scopes the changelist, change
pages, search, list filters (they read `get_queryset`), autocomplete (it reads the remote admin's
`get_queryset`) and the choices of every foreign key and many-to-many field. A superuser sees
every shop; a staff user without a `StaffMembership` sees nothing.

Another shop's object answers 404, never a redirect that confirms the id exists.
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import Http404

from subscriptions.models import Shop

# Members with one of these roles may use every console page of their shop; other roles need the
# model permissions Django's auth grants them.
FULL_ACCESS_ROLES = frozenset({"owner"})


def user_shop_id(user) -> int | None:
    """The shop a console user works for, or None (superusers and users without a membership)."""
    membership = getattr(user, "membership", None)
    return membership.shop_id if membership is not None else None


def has_shop_field(model) -> bool:
    return any(f.name == "shop" for f in model._meta.concrete_fields)


def scope_to_shop(queryset, shop_id: int | None):
    """Limit any queryset of a shop-owned model (or of shops) to one shop; other models pass."""
    model = queryset.model
    if model is Shop:
        return queryset.filter(pk=shop_id)
    if has_shop_field(model):
        return queryset.filter(shop_id=shop_id)
    return queryset


def _flatten(fields) -> list[str]:
    flat = []
    for field in fields:
        flat.extend(field if isinstance(field, list | tuple) else [field])
    return flat


class ShopScopedModelForm(forms.ModelForm):
    """Puts a new row in the console user's shop before validation, so the per-shop unique
    constraints (customer email, variant SKU, ...) are checked by the form, not by the database."""

    console_shop_id: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.console_shop_id and has_shop_field(self._meta.model) and not self.instance.shop_id:
            self.instance.shop_id = self.console_shop_id

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        if has_shop_field(self._meta.model) and getattr(self.instance, "shop_id", None):
            exclude.discard("shop")
        return exclude

    def clean(self):
        cleaned = super().clean()
        if not has_shop_field(self._meta.model):
            return cleaned
        shop = cleaned.get("shop")
        shop_id = shop.pk if isinstance(shop, Shop) else self.instance.shop_id
        if shop_id is None:
            return cleaned
        # A superuser may pick any shop: everything the row refers to must be in that same shop.
        for name, value in list(cleaned.items()):
            values = value if isinstance(value, list | tuple | models.QuerySet) else [value]
            for item in values:
                if isinstance(item, models.Model) and not isinstance(item, Shop):
                    if getattr(item, "shop_id", shop_id) != shop_id:
                        self.add_error(name, "Choose one of this shop's own records.")
                        break
        return cleaned


class ShopScopedInlineFormSet(BaseInlineFormSet):
    """Inline rows belong to their parent's shop."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        if has_shop_field(form._meta.model) and getattr(self.instance, "shop_id", None):
            form.instance.shop_id = self.instance.shop_id
        return form


class _ScopingMixin:
    """What model admins and inlines share: querysets and form choices scoped by shop."""

    def console_shop_id(self, request) -> int | None:
        return user_shop_id(request.user)

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        shop_id = self.console_shop_id(request)
        if shop_id is None or not request.user.is_active or not request.user.is_staff:
            return queryset.none()
        return scope_to_shop(queryset, shop_id)

    def choices_shop_id(self, request) -> int | None:
        """The shop the form's choices are drawn from: the user's own, or — for a superuser — the
        shop of the object being edited (None on a superuser's add page: validated by the form)."""
        if request.user.is_superuser:
            return getattr(request, "_console_object_shop_id", None)
        return self.console_shop_id(request)

    def scope_choices(self, request, queryset):
        if request.user.is_superuser:
            shop_id = self.choices_shop_id(request)
            return scope_to_shop(queryset, shop_id) if shop_id else queryset
        return self.scope(request, queryset)

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.scope_choices(request, field.queryset)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = self.scope_choices(request, field.queryset)
        return field

    def object_shop_id(self, obj) -> int | None:
        return obj.pk if isinstance(obj, Shop) else getattr(obj, "shop_id", None)

    def in_users_shop(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        shop_id = self.console_shop_id(request)
        return shop_id is not None and self.object_shop_id(obj) == shop_id

    def granted(self, request, permitted: bool) -> bool:
        """Superusers follow Django's permissions; staff need a membership, and then either a
        full-access role or the model permission."""
        user = request.user
        if user.is_superuser:
            return permitted
        membership = getattr(user, "membership", None)
        if membership is None or not user.is_active or not user.is_staff:
            return False
        return permitted or membership.role in FULL_ACCESS_ROLES

    def has_view_permission(self, request, obj=None):
        return self.granted(request, super().has_view_permission(request, obj)) and self.in_users_shop(
            request, obj
        )

    def has_add_permission(self, request, *args):
        return self.granted(request, super().has_add_permission(request, *args))

    def has_change_permission(self, request, obj=None):
        return self.granted(request, super().has_change_permission(request, obj)) and self.in_users_shop(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return self.granted(request, super().has_delete_permission(request, obj)) and self.in_users_shop(
            request, obj
        )


class ShopScopedAdminMixin(_ScopingMixin):
    """For `ModelAdmin`s of rows that have a `shop` (and for the Shop admin itself)."""

    form = ShopScopedModelForm

    def has_module_permission(self, request):
        return self.granted(request, super().has_module_permission(request))

    def remember_object_shop(self, request, obj) -> None:
        request._console_object_shop_id = self.object_shop_id(obj) if obj is not None else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        self.remember_object_shop(request, obj)
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ShopScopedModelForm):
            form.console_shop_id = None if request.user.is_superuser else self.console_shop_id(request)
        return form

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and has_shop_field(self.model):
            exclude.append("shop")
        return exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Moving a row to another shop would orphan everything that refers to it.
        if request.user.is_superuser and obj is not None and has_shop_field(self.model):
            readonly.append("shop")
        return readonly

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if not request.user.is_superuser and "shop" in fields:
            fields.remove("shop")
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not has_shop_field(self.model):
            return fieldsets
        named = [name for _, opts in fieldsets for name in _flatten(opts.get("fields", ()))]
        if request.user.is_superuser and "shop" not in named:
            return [(None, {"fields": ["shop"]}), *fieldsets]
        if not request.user.is_superuser and "shop" in named:
            return [
                (title, {**opts, "fields": [f for f in opts.get("fields", ()) if f != "shop"]})
                for title, opts in fieldsets
            ]
        return fieldsets

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.is_superuser and has_shop_field(self.model) and "shop" not in display:
            display.append("shop")
        return display

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and has_shop_field(self.model):
            filters.append("shop")
        return filters

    def get_list_select_related(self, request):
        related = super().get_list_select_related(request)
        if request.user.is_superuser and has_shop_field(self.model) and related is not False:
            return [*(related if isinstance(related, list | tuple) else []), "shop"]
        return related

    def save_model(self, request, obj, form, change):
        if not change and has_shop_field(self.model) and not request.user.is_superuser:
            obj.shop_id = self.console_shop_id(request)
        super().save_model(request, obj, form, change)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with "doesn't exist"; a plain 404 says even less.
        raise Http404(f"No {opts.verbose_name} with that id.")


class ShopScopedInlineMixin(_ScopingMixin):
    """For inlines: rows scoped by shop, choices from the parent's shop, new rows in that shop."""

    form = ShopScopedModelForm
    formset = ShopScopedInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        request._console_object_shop_id = getattr(obj, "shop_id", None) if obj is not None else None
        return super().get_formset(request, obj, **kwargs)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if has_shop_field(self.model):
            exclude.append("shop")
        return exclude


class ReadOnlyInlineMixin:
    """An inline that only shows rows: changes go through the services."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsoleModelAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    """The base of every shop-scoped console page. Every add, change and delete a console user
    makes is also written to the shop's activity log (beside Django's own admin history)."""

    list_per_page = 50
    show_full_result_count = False
    # Pages whose saves go through services that write the activity log themselves.
    logs_own_activity = False

    def _record(self, request, obj, action: str, what: str) -> None:
        shop_id = self.object_shop_id(obj)
        if self.logs_own_activity or shop_id is None:
            return
        from subscriptions.actors import Actor
        from subscriptions.services.common import log_activity

        name = self.opts.verbose_name
        log_activity(
            shop=Shop.objects.get(pk=shop_id),
            actor=Actor.admin(request.user),
            action=f"console_{action}",
            description=f"{name.capitalize()} “{obj}” {action}{': ' + what if what else ''}",
            details={"model": self.opts.label_lower, "object_id": str(obj.pk)},
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._record(request, obj, "added", "")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        what = entry.get_change_message() if hasattr(entry, "get_change_message") else ""
        self._record(request, obj, "changed", what)
        return entry

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._record(request, obj, "deleted", "")
        return super().log_deletions(request, queryset)


class ConsoleTabularInline(ShopScopedInlineMixin, admin.TabularInline):
    extra = 0


class ConsoleStackedInline(ShopScopedInlineMixin, admin.StackedInline):
    extra = 0
