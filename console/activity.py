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


VERBS = {1: "added", 2: "changed", 3: "deleted"}


def record_admin_history(sender, instance, created, **kwargs) -> None:
    """Console pages outside `ConsoleModelAdmin` (webhooks, API keys, integrations: apps that import
    no other) write only Django's admin history; copy each entry into the shop's activity log."""
    from django.contrib import admin

    from subscriptions.admin.tenancy import ConsoleModelAdmin

    model = instance.content_type.model_class() if created and instance.content_type_id else None
    model_admin = admin.site._registry.get(model) if model is not None else None
    if model_admin is None or isinstance(model_admin, ConsoleModelAdmin):
        return  # ConsoleModelAdmin records its own (see tenancy.py)
    obj = model._default_manager.filter(pk=instance.object_id).first()
    shop = Shop.objects.filter(pk=getattr(obj, "shop_id", None)).first()
    if shop is None:
        return
    verb = VERBS.get(instance.action_flag, "changed")
    message = instance.get_change_message()
    log_activity(
        shop=shop,
        actor=Actor.admin(instance.user),
        action=f"console_{verb}",
        description=f"{model._meta.verbose_name.capitalize()} “{instance.object_repr}” {verb}"
        + (f": {message}" if message else ""),
        details={"model": model._meta.label_lower, "object_id": instance.object_id},
    )
