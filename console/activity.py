"""Staff actions in the shop's activity log (the same log lifecycle services write)."""

from subscriptions.actors import Actor
from subscriptions.models import Shop
from subscriptions.services.common import log_activity


def staff_shop(user) -> Shop | None:
    membership = getattr(user, "membership", None)
    return membership.shop if membership is not None else None


def record_staff_action(*, user, shop: Shop | None, action: str, description: str, **details) -> None:
    """One line in the activity log, by `admin:<username>`; nothing for a superuser without a shop."""
    shop = shop or staff_shop(user)
    if shop is None:
        return
    log_activity(
        shop=shop,
        actor=Actor.admin(user),
        action=action,
        description=description,
        customer=details.pop("customer", None),
        subscription=details.pop("subscription", None),
        details=details,
    )
