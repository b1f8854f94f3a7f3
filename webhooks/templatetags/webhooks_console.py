"""The console notice shown on every page while one of the shop's webhook endpoints is disabled."""

from django import template
from django.urls import reverse

from webhooks import selectors

register = template.Library()


@register.inclusion_tag("admin/webhooks/disabled_notice.html", takes_context=True)
def disabled_webhooks_notice(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {"endpoints": []}
    if user.is_superuser:
        shop_id = None
    else:
        membership = getattr(user, "membership", None)
        if membership is None:
            return {"endpoints": []}
        shop_id = membership.shop_id
    endpoints = selectors.disabled_endpoints(shop_id=shop_id)
    for endpoint in endpoints:
        endpoint.change_url = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    return {"endpoints": endpoints}
