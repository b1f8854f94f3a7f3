"""Console pages of our own (dashboard, customer overview, bulk job progress), inside the admin.

Each one is wrapped in `admin.site.admin_view` (signed-in staff only), checks the user's role with
`console_allowed` (403 when the role lacks it) and reads only the user's shop: another shop's
customer or job answers 404.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from console import charts
from console.dashboard import dashboard_get
from console.models import BulkJob
from console.roles import console_allowed
from subscriptions.admin.timeline import render_timeline
from subscriptions.models import Customer, Order, Shop, SubscriptionProgram
from webhooks.models import Delivery
from webhooks.registry import customer_facts

RECENT_ROWS = 50


def require(request, permission: str) -> None:
    if not console_allowed(request.user, permission):
        raise PermissionDenied


def console_shop(request) -> Shop:
    """The staff user's shop; a superuser picks one with ?shop=<id> (default: the first)."""
    membership = getattr(request.user, "membership", None)
    if membership is not None:
        return membership.shop
    if not request.user.is_superuser:
        raise Http404("No shop.")
    raw = request.GET.get("shop")
    shops = Shop.objects.all()
    shop = shops.filter(pk=raw).first() if raw and raw.isdigit() else shops.first()
    if shop is None:
        raise Http404("No shop.")
    return shop


def scoped(request, queryset):
    """Rows of the user's shop only (a superuser: every shop)."""
    membership = getattr(request.user, "membership", None)
    if membership is not None:
        return queryset.filter(shop_id=membership.shop_id)
    return queryset if request.user.is_superuser else queryset.none()


def page(request, template: str, context: dict) -> TemplateResponse:
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context})


def dashboard_view(request):
    require(request, "view_dashboard")
    shop = console_shop(request)
    programs = list(SubscriptionProgram.objects.filter(shop=shop).order_by("name"))
    program_id = None
    raw = request.GET.get("program", "")
    if raw:
        if not raw.isdigit() or int(raw) not in {p.pk for p in programs}:
            return HttpResponseBadRequest(f"program: there is no program {raw} in this shop.")
        program_id = int(raw)
    data = dashboard_get(shop=shop, program_id=program_id)
    status_chart = charts.bar_chart(list(data.counts.items()), title="Subscriptions by status")
    weeks = [(w.start.strftime("%d %b"), w.new) for w in data.weeks]
    churned = [(w.start.strftime("%d %b"), w.churned) for w in data.weeks]
    churn_rates = [(w.start.strftime("%d %b"), w.churn_rate) for w in data.weeks]
    return page(
        request,
        "admin/console/dashboard.html",
        {
            "title": f"Dashboard — {shop.name}",
            "shop": shop,
            "shops": Shop.objects.all() if request.user.is_superuser else [],
            "programs": programs,
            "program_id": program_id,
            "d": data,
            "charts": {
                "status": status_chart,
                "new": charts.bar_chart(weeks, title="New subscriptions per week", colour="#2e7d32"),
                "churned": charts.bar_chart(churned, title="Cancelled per week", colour="#ba2121"),
                "churn_rate": charts.bar_chart(
                    churn_rates, title="Churn rate per week", colour="#ef6c00", suffix="%"
                ),
                "upcoming": charts.bar_chart(
                    [(d.strftime("%a %d"), n) for d, n in data.upcoming], title="Upcoming orders"
                ),
                "reasons": charts.horizontal_bars(data.cancellation_reasons, title="Cancellation reasons"),
            },
        },
    )


def customer_view(request, pk: int):
    customer = get_object_or_404(scoped(request, Customer.objects.select_related("shop")), pk=pk)
    customer_admin = admin.site._registry[Customer]
    if not customer_admin.has_view_permission(request, customer):
        raise PermissionDenied
    subscriptions = customer.subscriptions.select_related("plan__program").prefetch_related(
        "lines__variant__product"
    )
    orders = Order.objects.filter(customer=customer).order_by("-created_at", "-id")[:RECENT_ROWS]
    deliveries = list(
        Delivery.objects.filter(shop_id=customer.shop_id, event__payload__data__customer__id=customer.pk)
        .select_related("event")
        .order_by("-created_at")[:RECENT_ROWS]
    )
    facts = customer_facts(customer.shop_id, customer.pk)
    return page(
        request,
        "admin/console/customer.html",
        {
            "title": f"Customer: {customer}",
            "customer": customer,
            "subscriptions": subscriptions,
            "orders": orders,
            "deliveries": deliveries,
            "loyalty_balance": facts.get("loyalty_points_balance"),
            "referral_code": facts.get("referral_code"),
            "timeline": render_timeline(customer=customer),
            "edit_url": reverse("admin:subscriptions_customer_change", args=[customer.pk]),
        },
    )


def bulk_job_view(request, pk: int):
    require(request, "run_bulk_operations")
    job = get_object_or_404(scoped(request, BulkJob.objects.select_related("shop", "created_by")), pk=pk)
    return page(
        request,
        "admin/console/bulk_job.html",
        {
            "title": f"Bulk operation #{job.pk}: {job.get_operation_display()}",
            "job": job,
            "running": job.status != BulkJob.Status.DONE,
            "refresh_seconds": 2,
        },
    )
