"""Billing history in the console: daily billing runs and the scheduled notices sent. Read-only:
both are written by the billing and notice ticks."""

from django.contrib import admin

from subscriptions.admin.orders import ReadOnlyAdminMixin
from subscriptions.admin.tenancy import ConsoleModelAdmin
from subscriptions.models import BillingRun, Notice


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("__str__", "run_date", "started_at", "finished_at", "charged", "failed", "skipped")
    list_select_related = ("shop",)
    list_filter = (("run_date", admin.DateFieldListFilter),)
    search_fields = ("shop__name", "run_date")
    ordering = ("-run_date", "-id")


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdminMixin, ConsoleModelAdmin):
    list_display = ("sent_at", "kind", "date", "subscription", "customer_email")
    list_select_related = ("subscription__customer",)
    list_filter = ("kind", ("sent_at", admin.DateFieldListFilter))
    search_fields = ("subscription__customer__email", "subscription__id__exact")
    ordering = ("-sent_at", "-id")

    @admin.display(description="customer", ordering="subscription__customer__email")
    def customer_email(self, notice):
        return notice.subscription.customer.email
