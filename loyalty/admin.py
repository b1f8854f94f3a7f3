"""Loyalty in the merchant console: the program's settings, rewards, the points ledger (read-only,
with a "Manual adjustment" page that goes through the service) and the referral report.

Every page is scoped to the staff user's shop (subscriptions.admin.tenancy)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from loyalty import services
from loyalty.models import LedgerEntry, LoyaltyProgram, Referral, Reward
from subscriptions.admin.filters import RelatedOnlyWithLabelsFilter
from subscriptions.admin.tenancy import ConsoleModelAdmin
from subscriptions.errors import DomainError
from subscriptions.models import Customer


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LoyaltyProgram)
class LoyaltyProgramAdmin(ConsoleModelAdmin):
    list_display = ("__str__", "enabled", "points_per_currency_unit", "expiry_days", "referrer_points")
    list_filter = ("enabled",)
    search_fields = ("shop__name",)
    fieldsets = (
        (None, {"fields": ("enabled", "points_per_currency_unit", "expiry_days")}),
        (
            "Bonuses",
            {
                "fields": (
                    "points_on_subscription_created",
                    "points_on_account_created",
                    "every_nth_order",
                    "nth_order_bonus",
                    "anniversary_bonus",
                )
            },
        ),
        (
            "Campaign",
            {"fields": ("campaign_starts_at", "campaign_ends_at", "campaign_multiplier", "campaign_bonus")},
        ),
        ("Referrals", {"fields": ("referee_discount", "referrer_points")}),
    )

    def has_add_permission(self, request, *args):
        # One program per shop: staff whose shop has one edit it instead.
        shop_id = self.console_shop_id(request)
        if shop_id is not None and LoyaltyProgram.objects.filter(shop_id=shop_id).exists():
            return False
        return super().has_add_permission(request, *args)


@admin.register(Reward)
class RewardAdmin(ConsoleModelAdmin):
    list_display = ("name", "kind", "value", "points_cost", "active")
    list_filter = ("active", "kind")
    search_fields = ("name",)
    fields = ("name", "kind", "value", "variant", "points_cost", "active")


class CustomerFilter(RelatedOnlyWithLabelsFilter):
    pass


class AdjustmentForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    points = forms.IntegerField(help_text="Positive adds points, negative removes them.")
    reason = forms.CharField(max_length=200, help_text="Kept in the ledger with your name.")

    def __init__(self, *args, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError("Enter a whole number of points other than 0.")
        return points


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("created_at", "customer", "kind", "points", "balance_after", "reason", "staff_user")
    list_filter = ("kind", ("customer", CustomerFilter))
    search_fields = ("customer__email", "customer__first_name", "customer__last_name", "reason")
    list_select_related = ("customer", "staff_user")
    fields = list_display + ("source_event_id",)
    readonly_fields = fields

    def get_urls(self):
        adjust = path(
            "adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="loyalty_ledgerentry_adjust",
        )
        return [adjust, *super().get_urls()]

    def may_adjust(self, request) -> bool:
        return self.granted(request, request.user.has_perm("loyalty.add_ledgerentry"))

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_adjust": self.may_adjust(request)}
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request):
        """Add or remove points by hand, with a reason, recorded with the staff user."""
        if not self.may_adjust(request):
            raise PermissionDenied
        customers = self.scope(request, Customer.objects.order_by("email"))
        initial = {"customer": request.GET.get("customer")}
        form = AdjustmentForm(request.POST or None, customers=customers, initial=initial)
        if request.method == "POST" and form.is_valid():
            customer = form.cleaned_data["customer"]
            try:
                entry = services.points_adjust(
                    customer=customer,
                    points=form.cleaned_data["points"],
                    staff=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(
                    request,
                    f"{entry.points:+d} points for {customer}; balance {entry.balance_after}.",
                    messages.SUCCESS,
                )
                url = reverse("admin:loyalty_ledgerentry_changelist")
                return HttpResponseRedirect(f"{url}?customer__id__exact={customer.pk}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Manual points adjustment",
            "form": form,
        }
        return TemplateResponse(request, "admin/loyalty/ledgerentry/adjust.html", context)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("created_at", "referrer", "referee_email", "code", "status", "reason", "succeeded_at")
    list_filter = ("status",)
    search_fields = ("referrer__email", "referee_email", "code__code")
    list_select_related = ("referrer", "code")
    fields = list_display + ("referee",)
    readonly_fields = fields
