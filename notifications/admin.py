"""Native notifications in the merchant console: the shop's email switch and sender, and its email
templates - edit, preview with a sample payload, send a test to yourself, turn each on or off.

A template that does not compile (or render with a sample payload) is refused when saved, with
the line and the reason on the field at fault. Rows are scoped by shop: another shop's template
is a 404, on every page.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from notifications.catalogue import NOTICES
from notifications.models import EmailTemplate, NotificationSettings, Unsubscribe
from notifications.services import (
    email_notifications_set,
    email_preview,
    email_send_test,
    email_template_problems,
    email_template_save,
    email_templates_ensure,
)
from subscriptions.models import Shop
from webhooks.admin.scoping import ShopScopedAdmin, membership


class EmailTemplateForm(forms.ModelForm):
    class Meta:
        model = EmailTemplate
        fields = ("enabled", "subject", "text_body", "html_body")
        widgets = {
            "subject": forms.TextInput(attrs={"size": 90}),
            "text_body": forms.Textarea(attrs={"rows": 14, "cols": 100}),
            "html_body": forms.Textarea(attrs={"rows": 14, "cols": 100}),
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        problems = email_template_problems(
            key=self.instance.key,
            subject=cleaned.get("subject", ""),
            text_body=cleaned.get("text_body", ""),
            html_body=cleaned.get("html_body", ""),
        )
        for field, message in problems.items():
            self.add_error(field, message)
        return cleaned


@admin.register(EmailTemplate)
class EmailTemplateAdmin(ShopScopedAdmin, admin.ModelAdmin):
    form = EmailTemplateForm
    list_display = ("__str__", "key", "enabled", "optional", "updated_at")
    list_filter = ("enabled",)
    change_form_template = "admin/notifications/emailtemplate/change_form.html"

    @admin.display(description="Unsubscribe link", boolean=True)
    def optional(self, obj):
        notice = NOTICES.get(obj.key)
        return bool(notice and notice.optional)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return ("shop", *shown) if request.user.is_superuser else shown

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # A shop's staff find every notice there, even those added by a later release.
        found = membership(request.user)
        if found is not None and NotificationSettings.objects.filter(shop_id=found.shop_id).exists():
            email_templates_ensure(shop=found.shop)
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        email_template_save(
            template=obj,
            subject=form.cleaned_data["subject"],
            text_body=form.cleaned_data["text_body"],
            html_body=form.cleaned_data["html_body"],
            enabled=form.cleaned_data["enabled"],
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/preview/",
                wrap(self.preview_view),
                name="notifications_emailtemplate_preview",
            ),
            path(
                "<path:object_id>/send-test/",
                wrap(self.send_test_view),
                name="notifications_emailtemplate_send_test",
            ),
            *super().get_urls(),
        ]

    def _template(self, request, object_id) -> EmailTemplate:
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            raise Http404("No email template with that id.")
        return obj

    def _draft(self, request, obj):
        """The posted draft (not saved) when it is valid, else the form with its errors."""
        if request.method != "POST":
            return EmailTemplateForm(instance=obj), None
        form = EmailTemplateForm(request.POST, instance=EmailTemplate(pk=obj.pk, shop=obj.shop, key=obj.key))
        if not form.is_valid():
            return form, None
        return form, form.cleaned_data

    def preview_view(self, request, object_id):
        obj = self._template(request, object_id)
        form, draft = self._draft(request, obj)
        source = draft or {"subject": obj.subject, "text_body": obj.text_body, "html_body": obj.html_body}
        source = {name: source[name] for name in ("subject", "text_body", "html_body")}
        rendered = None
        if draft is not None or request.method == "GET":
            rendered = email_preview(template=obj, **source)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": f"Preview: {obj}",
            "rendered": rendered,
            "form": form,
        }
        return TemplateResponse(request, "admin/notifications/emailtemplate/preview.html", context)

    def send_test_view(self, request, object_id):
        obj = self._template(request, object_id)
        if request.method != "POST":
            raise PermissionDenied
        change_url = reverse("admin:notifications_emailtemplate_change", args=[obj.pk])
        to = (request.user.email or "").strip()
        if not to:
            messages.error(request, "Your console user has no email address: add one to receive tests.")
            return HttpResponseRedirect(change_url)
        form, draft = self._draft(request, obj)
        if draft is None:
            errors = "; ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items())
            messages.error(request, f"Not sent: the template has errors ({errors}).")
            return HttpResponseRedirect(change_url)
        test = EmailTemplate(
            pk=obj.pk,
            shop=obj.shop,
            key=obj.key,
            subject=draft["subject"],
            text_body=draft["text_body"],
            html_body=draft["html_body"],
        )
        try:
            email_send_test(template=test, to=to)
        except Exception as exc:  # the mail server's answer, shown to the merchant
            messages.error(request, f"The test could not be sent: {exc.__class__.__name__}: {exc}")
        else:
            messages.success(request, f"Test email sent to {to} (with a sample payload; nothing was saved).")
        return HttpResponseRedirect(change_url)


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = ("shop", "email_enabled", "from_email", "reply_to")


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(ShopScopedAdmin, admin.ModelAdmin):
    form = NotificationSettingsForm
    list_display = ("shop", "email_enabled", "from_email")

    def get_fields(self, request, obj=None):
        fields = ("email_enabled", "from_email", "reply_to")
        return ("shop", *fields) if request.user.is_superuser and obj is None else fields

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Staff have exactly one row: open it (made on first visit, emails off).
        found = membership(request.user)
        if found is not None and not request.user.is_superuser:
            row, _ = NotificationSettings.objects.get_or_create(shop_id=found.shop_id)
            return HttpResponseRedirect(
                reverse("admin:notifications_notificationsettings_change", args=[row.pk])
            )
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        shop = obj.shop if obj.shop_id else Shop.objects.get(pk=membership(request.user).shop_id)
        saved = email_notifications_set(shop=shop, enabled=obj.email_enabled, from_email=obj.from_email)
        if obj.reply_to != saved.reply_to:
            NotificationSettings.objects.filter(pk=saved.pk).update(reply_to=obj.reply_to)
        obj.pk = saved.pk


@admin.register(Unsubscribe)
class UnsubscribeAdmin(ShopScopedAdmin, admin.ModelAdmin):
    list_display = ("email", "created_at")
    search_fields = ("email",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
