"""The console's pieces inside the admin: bulk operations on the Subscriptions changelist (each one
a background job), the bulk job list, and the role checks on them."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from console.bulk import bulk_job_create
from console.models import BulkJob
from console.roles import console_allowed
from subscriptions.admin.subscription import SubscriptionAdmin
from subscriptions.admin.tenancy import ConsoleModelAdmin
from subscriptions.errors import DomainError
from subscriptions.models import Subscription, Variant

Operation = BulkJob.Operation


class BulkOperationForm(forms.Form):
    """The parameters of one operation; which fields it has depends on the operation."""

    FIELDS = {
        Operation.CANCEL: ("reason",),
        Operation.SET_NEXT_BILLING_DATE: ("date",),
        Operation.SWAP_VARIANT: ("from_variant", "to_variant"),
        Operation.CHANGE_PRICE: ("variant", "price"),
    }

    reason = forms.CharField(max_length=500, required=False, label="Cancellation reason")
    date = forms.DateField(label="New next billing date", help_text="YYYY-MM-DD, after today.")
    from_variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="Replace this variant")
    to_variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="With this variant")
    variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="Variant")
    price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0, label="New unit price")

    def __init__(self, data=None, *, operation: str, shop_id: int):
        super().__init__(data)
        keep = self.FIELDS.get(operation, ())
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        variants = Variant.objects.filter(shop_id=shop_id).select_related("product")
        for name in ("from_variant", "to_variant", "variant"):
            if name in self.fields:
                self.fields[name].queryset = variants

    def params(self) -> dict:
        return {
            name: (value.pk if hasattr(value, "pk") else str(value))
            for name, value in self.cleaned_data.items()
            if value is not None
        }


def _bulk_action(operation: str):
    label = Operation(operation).label

    def action(model_admin, request, queryset):
        return model_admin.start_bulk_job(request, queryset, operation)

    action.__name__ = f"bulk_{operation}"
    return admin.action(description=f"{label} (background job)…", permissions=["bulk"])(action)


class ConsoleSubscriptionAdmin(SubscriptionAdmin):
    """The Subscriptions page, with every bulk action run as a background job."""

    actions = [_bulk_action(op) for op in Operation.values]

    def has_bulk_permission(self, request) -> bool:
        return self.has_change_permission(request) and console_allowed(request.user, "run_bulk_operations")

    def start_bulk_job(self, request, queryset, operation: str):
        shops = list(queryset.order_by().values_list("shop_id", flat=True).distinct()[:2])
        if len(shops) != 1:
            self.message_user(request, "Select subscriptions of one shop at a time.", messages.ERROR)
            return None
        form = BulkOperationForm(
            request.POST if "_submit" in request.POST else None, operation=operation, shop_id=shops[0]
        )
        if form.is_bound and form.is_valid():
            try:
                job = bulk_job_create(
                    shop=queryset.first().shop,
                    user=request.user,
                    operation=operation,
                    params=form.params(),
                    subscription_ids=queryset.values_list("pk", flat=True),
                )
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(request, f"{job} started in the background.", messages.SUCCESS)
                return redirect("console:bulk_job", job.pk)
        count = queryset.count()
        # "index" makes the changelist run the action again, also when every filtered row is selected.
        hidden = [("action", f"bulk_{operation}"), ("index", "0")]
        if request.POST.get("select_across") == "1":
            hidden.append(("select_across", "1"))
        return self._render_form(
            request,
            form=form,
            title=f"{Operation(operation).label}: {count} subscription(s)",
            action_label=Operation(operation).label,
            description=(
                f"{Operation(operation).label} for the {count} selected subscription(s). It runs in the "
                "background; the next page shows its progress and every subscription it could not change."
            ),
            submit_label="Start",
            selected_ids=[]
            if request.POST.get("select_across") == "1"
            else request.POST.getlist("_selected_action"),
            extra_hidden=hidden,
        )


admin.site.unregister(Subscription)
admin.site.register(Subscription, ConsoleSubscriptionAdmin)


@admin.register(BulkJob)
class BulkJobAdmin(ConsoleModelAdmin):
    list_display = ("id", "operation", "status", "progress", "failed", "actor_name", "created_at")
    list_filter = ("operation", "status")
    ordering = ("-created_at", "-id")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        return format_html(
            '<a href="{}">{} / {}</a>', reverse("console:bulk_job", args=[obj.pk]), obj.processed, obj.total
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_permission(request, obj):
            return HttpResponseRedirect(reverse("console:bulk_job", args=[obj.pk]))
        return super().change_view(request, object_id, form_url, extra_context)
