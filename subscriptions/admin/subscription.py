"""Subscriptions in the console: a read-mostly page whose buttons call the lifecycle services."""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.admin.filters import DateRangeFilter, PlanFilter
from subscriptions.admin.subscription_actions import CONSOLE_ACTIONS
from subscriptions.admin.tenancy import ConsoleModelAdmin, ConsoleTabularInline, ReadOnlyInlineMixin
from subscriptions.admin.timeline import render_timeline
from subscriptions.errors import DomainError
from subscriptions.forms import SubscriptionCreateForm
from subscriptions.models import Customer, Plan, Subscription, SubscriptionLine, Variant

STATUS_COLOURS = {
    Subscription.Status.ACTIVE: "#2e7d32",
    Subscription.Status.PAUSED: "#ef6c00",
    Subscription.Status.CANCELLED: "#757575",
}
FORM_TEMPLATE = "admin/subscriptions/subscription/console_form.html"


def lines_total_subquery() -> Subquery:
    """Sum of unit price × quantity over a subscription's lines, as one correlated subquery."""
    return Subquery(
        SubscriptionLine.objects.filter(subscription=OuterRef("pk"))
        .order_by()
        .values("subscription")
        .annotate(total=Sum(F("unit_price") * F("quantity")))
        .values("total"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


class SubscriptionLineInline(ReadOnlyInlineMixin, ConsoleTabularInline):
    model = SubscriptionLine
    fields = ("variant", "quantity", "unit_price", "line_total")
    readonly_fields = fields
    verbose_name = "product"
    verbose_name_plural = "products (change them with the buttons above)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("variant__product")

    @admin.display(description="total")
    def line_total(self, line):
        return line.total


@admin.register(Subscription)
class SubscriptionAdmin(ConsoleModelAdmin):
    logs_own_activity = True  # saved through the services, which log
    list_display = (
        "id",
        "customer",
        "status_badge",
        "plan",
        "next_billing_date",
        "order_count",
        "total",
    )
    list_display_links = ("id", "customer")
    list_select_related = ("customer", "plan__program")
    list_filter = (
        "status",
        ("plan__program", admin.RelatedOnlyFieldListFilter),
        ("plan", PlanFilter),
        ("next_billing_date", DateRangeFilter),
    )
    search_fields = (
        "id__exact",
        "customer__email",
        "customer__first_name",
        "customer__last_name",
        "lines__variant__sku",
    )
    ordering = ("-created_at", "-id")
    inlines = (SubscriptionLineInline,)
    # Bulk actions (background jobs) are added by the console app (console/admin.py).
    fieldsets = (
        (None, {"fields": ("customer", "plan", "status", "created_at", "currency", "total")}),
        (
            "Schedule",
            {
                "fields": (
                    "next_billing_date",
                    "next_order",
                    "upcoming_dates",
                    "auto_resume_date",
                    "paused_at",
                    "order_count",
                )
            },
        ),
        ("Cancellation", {"fields": ("cancelled_at", "cancel_reason")}),
        ("Billing and shipping", {"fields": ("payment_method", "shipping_address", "discounts", "gifts")}),
        ("References", {"fields": ("external_id",)}),
        ("Activity", {"fields": ("timeline",)}),
    )
    # Everything the lifecycle manages changes only through the action buttons (the services).
    readonly_fields = (
        "customer",
        "plan",
        "status",
        "created_at",
        "currency",
        "total",
        "next_billing_date",
        "next_order",
        "upcoming_dates",
        "auto_resume_date",
        "paused_at",
        "order_count",
        "cancelled_at",
        "cancel_reason",
        "payment_method",
        "shipping_address",
        "discounts",
        "gifts",
        "timeline",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(lines_total=lines_total_subquery())

    def has_delete_permission(self, request, obj=None):
        # Cancel instead: deleting would erase orders' and events' history.
        return False

    # ------------------------------------------------------------------ columns and fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return format_html(
            '<span style="color:{};font-weight:bold">{}</span>',
            STATUS_COLOURS.get(obj.status, "inherit"),
            obj.status,
        )

    @admin.display(description="total", ordering="lines_total")
    def total(self, obj):
        amount = getattr(obj, "lines_total", None)
        if amount is None:
            amount = services.lifecycle.line_total(obj.lines.all()) if obj.pk else None
        return f"{amount:.2f} {obj.currency}" if amount is not None else "—"

    @admin.display(description="next order (after skips)")
    def next_order(self, obj):
        return services.next_order_date(obj) or "—"

    @admin.display(description="upcoming dates")
    def upcoming_dates(self, obj):
        skipped = set(obj.skips.filter(unskipped_at__isnull=True).values_list("date", flat=True))
        dates = services.upcoming_billing_dates(obj, 4) if obj.status != Subscription.Status.CANCELLED else []
        if not dates:
            return "—"
        return format_html_join(
            ", ", "{}{}", ((d.isoformat(), " (skipped)" if d in skipped else "") for d in dates)
        )

    @admin.display(description="discount codes")
    def discounts(self, obj):
        applied = obj.discounts.filter(removed_at__isnull=True).select_related("code")
        return (
            ", ".join(
                f"{a.code.code} ({'every payment' if a.payments_remaining is None else f'{a.payments_remaining} payments left'})"
                for a in applied
            )
            or "—"
        )

    @admin.display(description="gifts")
    def gifts(self, obj):
        gifts = obj.gifts.order_by("billing_date")
        return ", ".join(f"{g.billing_date.isoformat()} to {g.recipient_first_name}" for g in gifts) or "—"

    @admin.display(description="activity (newest first)")
    def timeline(self, obj):
        return render_timeline(subscription=obj) if obj.pk else ""

    # ------------------------------------------------------------------ pages

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/action/<str:name>/",
                self.admin_site.admin_view(self.action_view),
                name="{}_{}_action".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_change_permission(request, obj):
            extra_context["console_actions"] = [
                {
                    "name": action.name,
                    "label": action.label,
                    "url": reverse("admin:subscriptions_subscription_action", args=[obj.pk, action.name]),
                }
                for action in CONSOLE_ACTIONS.values()
                if action.shown_for(obj)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def _render_form(self, request, *, form, title, action_label, original=None, **context):
        media = self.media + form.media
        return TemplateResponse(
            request,
            FORM_TEMPLATE,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "original": original,
                "title": title,
                "action_label": action_label,
                "form": form,
                "media": media,
                "cancel_url": (
                    reverse("admin:subscriptions_subscription_change", args=[original.pk])
                    if original
                    else None
                ),
                **context,
            },
        )

    def action_view(self, request, object_id, name):
        """One lifecycle action on one subscription: a small form, then the service."""
        subscription = self.get_object(request, unquote(object_id))
        if subscription is None:
            raise Http404("No subscription with that id.")
        if not self.has_change_permission(request, subscription):
            raise PermissionDenied
        action = CONSOLE_ACTIONS.get(name)
        if action is None:
            raise Http404("No such action.")
        form = action.form_class(
            request.POST if request.method == "POST" else None, subscription=subscription
        )
        if request.method == "POST" and form.is_valid():
            try:
                action.service(
                    subscription=subscription, actor=Actor.admin(request.user), **form.service_kwargs()
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, action.success)
                return redirect("admin:subscriptions_subscription_change", subscription.pk)
        return self._render_form(
            request,
            form=form,
            original=subscription,
            title=f"{action.label}: subscription #{subscription.pk}",
            action_label=action.label,
            description=action.description,
            submit_label=action.label,
        )

    def add_view(self, request, form_url="", extra_context=None):
        """New subscriptions are created by `subscription_create`, like everywhere else."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = SubscriptionCreateForm(
            request.POST if request.method == "POST" else None,
            querysets={
                "customer": self.scope(request, Customer.objects.all()),
                "plan": self.scope(request, Plan.objects.filter(active=True).select_related("program")),
                "variant": self.scope(
                    request, Variant.objects.filter(archived=False).select_related("product")
                ),
            },
        )
        customer_field = form.fields["customer"]
        customer_field.widget = AutocompleteSelect(Subscription._meta.get_field("customer"), self.admin_site)
        customer_field.widget.choices = customer_field.choices
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            customer = data["customer"]
            try:
                subscription = services.subscription_create(
                    customer=customer,
                    plan=data["plan"],
                    lines=[(data["variant"], data["quantity"])],
                    next_billing_date=data["next_billing_date"],
                    payment_method=customer.payment_methods.order_by("-created_at", "-id").first(),
                    shipping_address=customer.addresses.order_by("-id").first(),
                    actor=Actor.admin(request.user),
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                self.log_addition(request, subscription, [{"added": {}}])
                messages.success(request, f"{subscription} was created.")
                return redirect("admin:subscriptions_subscription_change", subscription.pk)
        return self._render_form(
            request,
            form=form,
            title="Add subscription",
            action_label="Add subscription",
            description=(
                "The subscription uses the customer's most recent payment method and address; "
                "change them afterwards with the buttons on its page."
            ),
            submit_label="Create subscription",
        )
