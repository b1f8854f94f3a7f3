"""The activity timeline shown on customer and subscription pages: newest first."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from subscriptions.models import ActivityLog

TIMELINE_LENGTH = 50


def render_timeline(*, subscription=None, customer=None) -> str:
    rows = ActivityLog.objects.select_related("subscription")
    if subscription is not None:
        rows = rows.filter(subscription=subscription)
        query = {"subscription__id__exact": subscription.pk}
    else:
        rows = rows.filter(customer=customer)
        query = {"customer__id__exact": customer.pk}
    rows = list(rows.order_by("-created_at", "-id")[: TIMELINE_LENGTH + 1])
    return render_to_string(
        "admin/subscriptions/activity_timeline.html",
        {
            "rows": rows[:TIMELINE_LENGTH],
            "more": len(rows) > TIMELINE_LENGTH,
            "all_url": reverse("admin:subscriptions_activitylog_changelist") + "?" + urlencode(query),
            "show_subscription": subscription is None,
        },
    )
