"""Messages to a shop's staff (for example: a webhook endpoint was disabled)."""

from django.conf import settings
from django.core.mail import send_mail

from subscriptions.models import StaffMembership


def shop_staff_notify(shop_id: int, subject: str, message: str) -> int:
    """Email every staff member of the shop who has an address; returns how many were sent."""
    recipients = sorted(
        email
        for email in StaffMembership.objects.filter(shop_id=shop_id, user__is_active=True).values_list(
            "user__email", flat=True
        )
        if email
    )
    if not recipients:
        return 0
    return send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=True)
