"""Links from the admin's own pages to the console's: shown only to roles that may use them."""

from django import template
from django.urls import reverse

from console.exports import EXPORTS
from console.roles import console_allowed

register = template.Library()

EXPORT_KIND = {model._meta.label_lower: kind for kind, (model, _) in EXPORTS.items()}


@register.simple_tag(takes_context=True)
def console_export_url(context, cl) -> str:
    """The changelist's CSV export, with its current filters and search."""
    request = context.get("request")
    kind = EXPORT_KIND.get(cl.opts.label_lower)
    if request is None or kind is None or not console_allowed(request.user, "export_data"):
        return ""
    query = request.GET.urlencode()
    return reverse("console:export", args=[kind]) + (f"?{query}" if query else "")


@register.simple_tag(takes_context=True)
def console_import_url(context, cl) -> str:
    request = context.get("request")
    if request is None or cl.opts.label_lower != "subscriptions.subscription":
        return ""
    return reverse("console:import") if console_allowed(request.user, "import_subscriptions") else ""


@register.simple_tag
def console_customer_url(opts, original) -> str:
    if opts is None or original is None or opts.label_lower != "subscriptions.customer" or not original.pk:
        return ""
    return reverse("console:customer", args=[original.pk])


@register.simple_tag(takes_context=True)
def console_links(context) -> list[tuple[str, str]]:
    request = context.get("request")
    if request is None:
        return []
    user = request.user
    links = []
    if console_allowed(user, "view_dashboard"):
        links.append(("Dashboard", reverse("console:dashboard")))
    if console_allowed(user, "import_subscriptions"):
        links.append(("Import subscriptions (CSV)", reverse("console:import")))
    if console_allowed(user, "run_bulk_operations"):
        links.append(("Bulk operations", reverse("admin:console_bulkjob_changelist")))
    return links
