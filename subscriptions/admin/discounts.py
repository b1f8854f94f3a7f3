"""Discount codes in the console: created and changed through the discount services (the same
rules as the vendor API), and imported from a CSV file with a preview: nothing is written until
the merchant confirms, and rows with errors are shown with them and left out."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from subscriptions.actors import Actor
from subscriptions.admin.tenancy import ConsoleModelAdmin, ShopScopedModelForm, user_shop_id
from subscriptions.errors import DomainError
from subscriptions.models import DiscountCode, Shop
from subscriptions.services.discount_import import COLUMNS, discount_codes_import, discount_codes_preview
from subscriptions.services.discounts import (
    UPDATABLE_FIELDS,
    discount_code_create,
    discount_code_update,
    discount_code_validate,
)

# What a code gives never changes once created: subscriptions already carry it.
FIXED_AFTER_CREATE = ("code", "kind", "value", "applies_to", "duration", "recurring_count")
CREATE_FIELDS = (*FIXED_AFTER_CREATE, "active", "starts_at", "ends_at", "usage_limit")


class DiscountCodeForm(ShopScopedModelForm):
    """A new code is checked by `discount_code_validate`, so the console refuses exactly what the
    API refuses, with the error on the field at fault."""

    def _post_clean(self):
        super()._post_clean()  # the model's own checks first; ours only on what passed them
        if self.instance.pk is not None or self.errors:
            return
        cleaned = self.cleaned_data
        shop = cleaned.get("shop") or Shop.objects.filter(pk=self.instance.shop_id).first()
        if shop is None:
            return
        try:
            discount_code_validate(shop=shop, **{name: cleaned.get(name) for name in CREATE_FIELDS})
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)


class CsvUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Header row: " + ", ".join(COLUMNS) + ".")


@admin.register(DiscountCode)
class DiscountCodeAdmin(ConsoleModelAdmin):
    form = DiscountCodeForm
    change_list_template = "admin/subscriptions/discountcode/change_list.html"
    list_display = (
        "code",
        "kind",
        "value",
        "applies_to",
        "duration",
        "active",
        "usage",
        "starts_at",
        "ends_at",
    )
    list_filter = ("active", "kind", "applies_to", "duration")
    search_fields = ("code",)
    fields = (*CREATE_FIELDS, "times_used")
    readonly_fields = ("times_used",)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + list(FIXED_AFTER_CREATE) if obj is not None else readonly

    def has_delete_permission(self, request, obj=None):
        # Applied codes are protected by the database; deactivate a code instead.
        return super().has_delete_permission(request, obj) and (obj is None or not obj.applications.exists())

    @admin.display(description="used", ordering="times_used")
    def usage(self, obj):
        return f"{obj.times_used} / {obj.usage_limit}" if obj.usage_limit else str(obj.times_used)

    def save_model(self, request, obj, form, change):
        actor = Actor.admin(request.user)
        if change:
            changed = {n: form.cleaned_data[n] for n in form.changed_data if n in UPDATABLE_FIELDS}
            discount_code_update(discount_code=obj, actor=actor, **changed)
            return
        shop = form.cleaned_data.get("shop") or Shop.objects.get(pk=self.console_shop_id(request))
        created = discount_code_create(
            shop=shop, actor=actor, **{name: form.cleaned_data.get(name) for name in CREATE_FIELDS}
        )
        obj.pk, obj.shop_id, obj.code = created.pk, created.shop_id, created.code

    # -- CSV import --------------------------------------------------------------------------
    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="subscriptions_discountcode_import",
            ),
            *super().get_urls(),
        ]

    def _import_shop(self, request) -> Shop:
        if not self.has_add_permission(request):
            raise Http404("No such page.")
        if request.user.is_superuser:
            shop_id = request.POST.get("shop") or request.GET.get("shop")
            shop = Shop.objects.filter(pk=shop_id).first() if str(shop_id).isdigit() else None
            if shop is None:
                raise Http404("Choose a shop first (?shop=<id>).")
            return shop
        return Shop.objects.get(pk=user_shop_id(request.user))

    def import_view(self, request):
        shop = self._import_shop(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import discount codes from CSV",
            "console_shop": shop,
            "columns": COLUMNS,
        }
        upload = CsvUploadForm()
        if request.method == "POST" and request.POST.get("confirm"):
            text = request.POST.get("csv_text", "")
            try:
                created, left_out = discount_codes_import(
                    shop=shop, actor=Actor.admin(request.user), text=text
                )
            except DomainError as exc:
                messages.error(request, exc.message)
                return HttpResponseRedirect(request.get_full_path())
            messages.success(
                request,
                f"{len(created)} discount code(s) imported"
                + (f"; {len(left_out)} row(s) with errors left out." if left_out else "."),
            )
            return HttpResponseRedirect(reverse("admin:subscriptions_discountcode_changelist"))
        if request.method == "POST":
            upload = CsvUploadForm(request.POST, request.FILES)
            if upload.is_valid():
                try:
                    text = upload.cleaned_data["file"].read().decode("utf-8-sig")
                    rows = discount_codes_preview(shop=shop, text=text)
                except UnicodeDecodeError:
                    upload.add_error("file", "The file is not UTF-8 text; save it as CSV UTF-8.")
                except DomainError as exc:
                    upload.add_error("file", exc.message)
                else:
                    context.update(
                        rows=rows,
                        csv_text=text,
                        valid_count=sum(1 for r in rows if r.valid),
                        error_count=sum(1 for r in rows if not r.valid),
                    )
        context["upload"] = upload
        status = 400 if request.method == "POST" and upload.errors else 200
        return TemplateResponse(
            request, "admin/subscriptions/discountcode/import.html", context, status=status
        )
