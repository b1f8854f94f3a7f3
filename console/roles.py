"""Console roles: owner, staff and read-only support, as Django groups.

A staff user's `StaffMembership.role` names the role; the matching group carries the permissions
every console page checks (`has_*_permission`, and `console_allowed` for the console's own pages).
Owners keep full access through `FULL_ACCESS_ROLES` as before.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from subscriptions.actors import Actor
from subscriptions.admin.tenancy import FULL_ACCESS_ROLES
from subscriptions.errors import DomainError
from subscriptions.models import StaffMembership
from subscriptions.services.common import log_activity

OWNER, STAFF, SUPPORT = "owner", "staff", "support"
GROUPS = {OWNER: "Shop owner", STAFF: "Shop staff", SUPPORT: "Shop support (read-only)"}
SHOP_APPS = (
    "subscriptions",
    "webhooks",
    "integrations",
    "loyalty",
    "console",
    "notifications",
    "checkout",
    "shopify",
    "migration",
)
CONSOLE_PERMS = ("view_dashboard", "run_bulk_operations", "import_subscriptions", "export_data")
# Shop settings, API keys and partner connections stay with the owner.
OWNER_ONLY_MODELS = (
    "shop",
    "staffmembership",
    "apikey",
    "integration",
    "notificationsettings",
    "checkoutsettings",
    "migrationrun",
)


def _model_perms(actions: tuple[str, ...]):
    return Permission.objects.filter(
        content_type__app_label__in=SHOP_APPS, codename__regex=rf"^({'|'.join(actions)})_"
    ).exclude(codename__in=CONSOLE_PERMS)


def role_permissions(role: str):
    console = Permission.objects.filter(content_type__app_label="console", codename__in=CONSOLE_PERMS)
    if role == OWNER:
        return _model_perms(("add", "change", "view", "delete")) | console
    if role == STAFF:
        owner_only = Q()
        for model in OWNER_ONLY_MODELS:
            owner_only |= Q(codename__regex=rf"^(add|change|delete)_{model}$")
        return _model_perms(("add", "change", "view")).exclude(owner_only) | console
    if role == SUPPORT:
        return _model_perms(("view",)) | console.filter(codename="view_dashboard")
    raise DomainError("unknown_role", f"Unknown role '{role}'.", field="role")


def roles_install(**_) -> None:
    """Create or refresh the three groups (idempotent; runs after every migrate and in seed_demo)."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, name in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(role_permissions(role))


@transaction.atomic
def staff_set_role(*, membership: StaffMembership, role: str, actor: Actor | None = None) -> StaffMembership:
    """Give a console user one role: the membership names it, the user is in its group only."""
    if role not in GROUPS:
        raise DomainError(
            "unknown_role", f"Unknown role '{role}'; use owner, staff or support.", field="role"
        )
    if not Group.objects.filter(name=GROUPS[role]).exists():
        roles_install()
    user = membership.user
    user.groups.remove(*Group.objects.filter(name__in=GROUPS.values()))
    user.groups.add(Group.objects.get(name=GROUPS[role]))
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    if actor is not None:
        log_activity(
            shop=membership.shop,
            actor=actor,
            action="staff_role_changed",
            description=f"{user.get_username()} is now {role} (was {previous})",
            details={"user": user.get_username(), "role": role, "previous": previous},
        )
    return membership


def console_allowed(user, permission: str) -> bool:
    """May this console user use a console feature (`view_dashboard`, `run_bulk_operations`, ...)?"""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if user.is_superuser:
        return True
    membership = getattr(user, "membership", None)
    if membership is None:
        return False
    return membership.role in FULL_ACCESS_ROLES or user.has_perm(f"console.{permission}")
