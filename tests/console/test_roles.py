"""Owner, staff and read-only support: groups, and their enforcement on console pages."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from console.roles import GROUPS, console_allowed, staff_set_role
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, Subscription
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_groups_exist_with_their_permissions(db):
    owner, staff, support = (Group.objects.get(name=GROUPS[r]) for r in ("owner", "staff", "support"))
    codes = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in (owner, staff, support)}
    assert {
        "change_subscription",
        "change_shop",
        "add_apikey",
        "run_bulk_operations",
        "export_data",
    } <= codes[owner.name]
    assert {"change_subscription", "run_bulk_operations", "import_subscriptions", "export_data"} <= codes[
        staff.name
    ]
    assert not {"change_shop", "add_apikey", "delete_customer"} & codes[staff.name]
    assert {"view_subscription", "view_customer", "view_order", "view_dashboard"} <= codes[support.name]
    assert all(code.startswith("view_") for code in codes[support.name])


def test_support_can_view_but_not_change(support_client, support, shop):
    sub = f.SubscriptionFactory(shop=shop)
    customer = sub.customer
    assert support_client.get(reverse("admin:subscriptions_subscription_changelist")).status_code == 200
    page = support_client.get(reverse("admin:subscriptions_subscription_change", args=[sub.pk]))
    assert page.status_code == 200 and not page.context.get("console_actions")
    action = reverse("admin:subscriptions_subscription_action", args=[sub.pk, "pause"])
    assert support_client.post(action).status_code == 403
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    response = support_client.post(
        reverse("admin:subscriptions_customer_change", args=[customer.pk]), {"email": "new@example.com"}
    )
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.email != "new@example.com"
    assert support_client.get(reverse("admin:subscriptions_subscription_add")).status_code == 403
    for permission in ("run_bulk_operations", "import_subscriptions", "export_data"):
        assert not console_allowed(support, permission)
    assert console_allowed(support, "view_dashboard")


def test_staff_works_on_subscriptions_but_not_shop_settings(staff_client, shop):
    sub = f.SubscriptionFactory(shop=shop)
    response = staff_client.post(
        reverse("admin:subscriptions_subscription_action", args=[sub.pk, "pause"]), {}
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.PAUSED
    assert (
        staff_client.post(
            reverse("admin:subscriptions_shop_change", args=[shop.pk]), {"name": "X"}
        ).status_code
        == 403
    )
    shop.refresh_from_db()
    assert shop.name == "Alpha Coffee"


def test_owner_may_change_shop_settings(owner_client, shop):
    page = owner_client.get(reverse("admin:subscriptions_shop_change", args=[shop.pk]))
    assert page.status_code == 200 and page.context["has_change_permission"]


def test_console_index_links_follow_the_role(owner_client, support, as_user):
    html = owner_client.get(reverse("admin:index")).content.decode()
    assert reverse("console:dashboard") in html and reverse("console:import") in html
    html = as_user(support).get(reverse("admin:index")).content.decode()
    assert reverse("console:dashboard") in html and reverse("console:import") not in html


def test_setup_roles_puts_each_user_in_the_group_of_their_role(shop):
    membership = f.StaffMembershipFactory(shop=shop, role="support")
    membership.user.groups.add(Group.objects.get(name=GROUPS["owner"]))  # a stale group
    call_command("setup_roles", stdout=StringIO())
    assert list(membership.user.groups.values_list("name", flat=True)) == [GROUPS["support"]]


def test_role_change_is_logged_and_unknown_roles_refused(shop, owner):
    membership = f.StaffMembershipFactory(shop=shop, role="staff")
    staff_set_role(membership=membership, role="support", actor=Actor.admin(owner))
    entry = ActivityLog.objects.get(action="staff_role_changed")
    assert entry.actor_name == "olivia" and "now support (was staff)" in entry.description
    with pytest.raises(DomainError) as caught:
        staff_set_role(membership=membership, role="boss")
    assert caught.value.field == "role"


def test_console_edits_are_in_the_activity_log(owner_client, shop):
    program = f.SubscriptionProgramFactory(shop=shop, name="Coffee")
    response = owner_client.post(
        reverse("admin:subscriptions_subscriptionprogram_change", args=[program.pk]),
        {
            "name": "Coffee Club",
            "description": "",
            "active": "on",
            "plans-TOTAL_FORMS": "0",
            "plans-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    entry = ActivityLog.objects.get(action="console_changed")
    assert (entry.shop, entry.actor_type, entry.actor_name) == (shop, "admin", "olivia")
    assert (
        "Coffee Club" in entry.description and entry.details["model"] == "subscriptions.subscriptionprogram"
    )


def test_edits_on_webhook_pages_are_in_the_activity_log_too(owner, shop):
    from django.contrib.admin.models import CHANGE, LogEntry

    from webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(shop_id=shop.pk, url="https://hooks.example.com/x")
    LogEntry.objects.log_actions(
        user_id=owner.pk,
        queryset=[endpoint],
        action_flag=CHANGE,
        change_message="Changed URL.",
        single_object=True,
    )
    entry = ActivityLog.objects.get(action="console_changed")
    assert (entry.shop, entry.actor_name) == (shop, "olivia")
    assert "hooks.example.com" in entry.description and entry.details["model"] == "webhooks.webhookendpoint"
