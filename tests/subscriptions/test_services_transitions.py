"""Which action is allowed in which status, and what every successful action records.

For each action x status (ACTIVE, PAUSED, CANCELLED): a refused action raises DomainError with a
code and a message and changes nothing at all; an allowed one writes exactly one activity log row
for the subscription with its actor and exactly the expected outbox events.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, Subscription
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

ACTIVE, PAUSED, CANCELLED = (
    Subscription.Status.ACTIVE,
    Subscription.Status.PAUSED,
    Subscription.Status.CANCELLED,
)
LIVE = {ACTIVE, PAUSED}
D = dt.date


@dataclass
class Action:
    service: Any
    allowed: set[str]
    events: list[str]
    # Builds the keyword arguments (beyond subscription and actor) from the subscription.
    kwargs: Any = field(default=lambda sub: {})


def _second_line(sub):
    f.SubscriptionLineFactory(subscription=sub)
    return {"line": sub.lines.order_by("id").first()}


def _applied_code(sub):
    f.SubscriptionDiscountFactory(subscription=sub, code=f.DiscountCodeFactory(shop=sub.shop, code="APPLIED"))
    return {"code": "applied"}


ACTIONS: dict[str, Action] = {
    "skip": Action(services.subscription_skip, {ACTIVE}, ["subscription.skipped"]),
    "unskip": Action(
        services.subscription_unskip,
        {ACTIVE},
        ["subscription.unskipped"],
        lambda sub: f.SkippedDateFactory(subscription=sub) and {},
    ),
    "pause": Action(
        services.subscription_pause,
        {ACTIVE},
        ["subscription.paused"],
        lambda sub: {"resume_on": D(2025, 3, 1)},
    ),
    "activate": Action(services.subscription_activate, {PAUSED}, ["subscription.activated"]),
    "cancel": Action(
        services.subscription_cancel, LIVE, ["subscription.canceled"], lambda sub: {"reason": "Too much"}
    ),
    "set_next_billing_date": Action(
        services.subscription_set_next_billing_date,
        LIVE,
        ["subscription.next_order_date_changed"],
        lambda sub: {"date": D(2025, 2, 20)},
    ),
    "send_now": Action(services.subscription_send_now, {ACTIVE}, ["subscription.send_now"]),
    "gift": Action(
        services.subscription_gift,
        {ACTIVE},
        ["subscription.gifted"],
        lambda sub: {
            "recipient_first_name": "Grace",
            "line1": "1 Navy Yard",
            "city": "Arlington",
            "country": "US",
        },
    ),
    "swap_variant": Action(
        services.subscription_swap_variant,
        LIVE,
        [],
        lambda sub: {"line": sub.lines.get(), "variant": f.VariantFactory(shop=sub.shop)},
    ),
    "change_quantity": Action(
        services.subscription_change_quantity, LIVE, [], lambda sub: {"line": sub.lines.get(), "quantity": 3}
    ),
    "add_line": Action(
        services.subscription_add_line, LIVE, [], lambda sub: {"variant": f.VariantFactory(shop=sub.shop)}
    ),
    "remove_line": Action(services.subscription_remove_line, LIVE, [], _second_line),
    "change_plan": Action(
        services.subscription_change_plan,
        LIVE,
        [],
        lambda sub: {"plan": f.PlanFactory(shop=sub.shop, interval_unit="week", interval_count=2)},
    ),
    "update_shipping_address": Action(
        services.subscription_update_shipping_address,
        LIVE,
        [],
        lambda sub: {"line1": "1 Main St", "city": "Springfield", "country": "US"},
    ),
    "update_payment_method": Action(
        services.subscription_update_payment_method,
        LIVE,
        ["subscription.payment_method_updated"],
        lambda sub: {"payment_method": f.PaymentMethodFactory(customer=sub.customer)},
    ),
    "apply_discount": Action(
        services.subscription_apply_discount,
        LIVE,
        [],
        lambda sub: f.DiscountCodeFactory(shop=sub.shop, code="WELCOME") and {"code": "welcome"},
    ),
    "remove_discount": Action(services.subscription_remove_discount, LIVE, [], _applied_code),
}

STATUSES = [ACTIVE, PAUSED, CANCELLED]


def make_subscription(customer, status: str) -> Subscription:
    extra: dict[str, Any] = {}
    if status == PAUSED:
        extra["paused_at"] = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    if status == CANCELLED:
        extra["cancelled_at"] = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    sub = f.SubscriptionFactory(
        customer=customer, status=status, next_billing_date=D(2025, 2, 10), anchor_day=10, **extra
    )
    # Another live subscription, so cancelling stays one event (the last-live case is tested apart).
    f.SubscriptionFactory(customer=customer)
    return sub


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("name", list(ACTIONS))
def test_action_in_status(customer, actor, db_state, name, status):
    action = ACTIONS[name]
    sub = make_subscription(customer, status)
    kwargs = action.kwargs(sub)
    before = db_state()
    logs_before = ActivityLog.objects.count()

    if status not in action.allowed:
        with pytest.raises(DomainError) as caught:
            action.service(subscription=sub, actor=actor, **kwargs)
        error = caught.value
        assert error.code == f"subscription_{status.lower()}"
        assert status in error.message and error.message.startswith("Cannot ")
        assert error.field == "status"
        assert db_state() == before
        return

    action.service(subscription=sub, actor=actor, **kwargs)

    assert ActivityLog.objects.count() == logs_before + 1
    log = ActivityLog.objects.get(subscription=sub)
    assert (log.actor_type, log.actor_name, log.customer) == ("customer", "ada@example.com", customer)
    assert log.description
    events = list(OutboxEvent.objects.order_by("occurred_at"))
    assert [e.type for e in events] == action.events
    for event in events:
        assert event.shop_id == sub.shop_id
        assert event.actor == "customer"
        assert event.payload["data"]["subscription"]["id"] == sub.pk


def test_matrix_follows_the_design():
    """Guard the table itself against drifting from DESIGN.md."""
    active_only = {name for name, a in ACTIONS.items() if a.allowed == {ACTIVE}}
    assert active_only == {"skip", "unskip", "send_now", "gift", "pause"}
    assert ACTIONS["activate"].allowed == {PAUSED}
    assert all(a.allowed == LIVE for n, a in ACTIONS.items() if n not in active_only | {"activate"})


# name -> (make actor, activity log actor_type, actor_name, log.actor, event actor)
ACTORS = {
    "customer": (
        lambda: Actor.customer("ada@example.com"),
        "customer",
        "ada@example.com",
        "customer:ada@example.com",
        "customer",
    ),
    "admin": (
        lambda: Actor.admin(get_user_model().objects.create_user("merchant")),
        "admin",
        "merchant",
        "admin:merchant",
        "admin",
    ),
    "api": (lambda: Actor.api("Helpdesk key"), "api", "Helpdesk key", "api:Helpdesk key", "api"),
    "gorgias": (
        lambda: Actor.integration("gorgias"),
        "integration",
        "gorgias",
        "integration:gorgias",
        "integration:gorgias",
    ),
    "system": (Actor.system, "system", "", "system", "system"),
}


@pytest.mark.parametrize("actor_name", list(ACTORS))
@pytest.mark.parametrize("name", list(ACTIONS))
def test_activity_log_and_events_name_the_actor(customer, name, actor_name):
    action = ACTIONS[name]
    make_actor, actor_type, logged_name, log_actor, event_actor = ACTORS[actor_name]
    sub = make_subscription(customer, PAUSED if name == "activate" else ACTIVE)
    kwargs = action.kwargs(sub)

    action.service(subscription=sub, actor=make_actor(), **kwargs)

    log = ActivityLog.objects.get(subscription=sub)
    assert (log.actor_type, log.actor_name) == (actor_type, logged_name)
    assert log.actor == log_actor
    for event in OutboxEvent.objects.all():
        assert event.actor == event_actor
        assert event.payload["actor"] == event_actor
