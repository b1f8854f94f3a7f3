"""Signed deep links: a notification's "manage your subscription" link signs the customer in and
opens that subscription, for PORTAL_DEEP_LINK_MAX_AGE seconds (7 days by default).

The link carries (customer id, subscription id) signed with SECRET_KEY (TimestampSigner); it is not
single-use, because the same email may be opened several times during the week.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "portal.deep-link"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def signed_subscription_link(subscription=None) -> str:
    """The absolute URL that signs the subscription's customer in and opens it; without a
    subscription, the portal's overview (which asks for a sign-in when needed)."""
    if subscription is None:
        return settings.SITE_URL + reverse("portal:overview")
    token = _signer().sign_object({"c": subscription.customer_id, "s": subscription.pk})
    return settings.SITE_URL + reverse("portal:deep_link", args=[token])


def read_subscription_link(token: str) -> tuple[int, int] | None:
    """(customer id, subscription id) of a valid, unexpired link, or None."""
    try:
        data = _signer().unsign_object(token, max_age=settings.PORTAL_DEEP_LINK_MAX_AGE)
        return int(data["c"]), int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def subscription_link_target(url: str) -> tuple[int, int] | None:
    """(customer id, subscription id) a full deep-link URL opens, or None (tests and support)."""
    marker = "/account/link/"
    if marker not in url:
        return None
    return read_subscription_link(url.split(marker, 1)[1].rstrip("/"))
