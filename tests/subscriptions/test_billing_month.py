"""A full month of a small shop, day by day (March 2025 in New York, across the DST switch on the
9th): every order, notice and event created on each day is exactly the one expected.

The shop: A weekly, B monthly, C monthly with its next order skipped, D weekly paused until the
20th (auto-resume), E monthly with a declined card that recovers after a payment method update,
F weekly cancelled on the 14th, G every two weeks."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from subscriptions.actors import Actor
from subscriptions.models import IntervalUnit, Notice, Order
from subscriptions.services import billing, lifecycle, notices
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
PAID, FAILED = Order.Status.PAID, Order.Status.FAILED
UP, RESUME = Notice.Kind.UPCOMING_ORDER, Notice.Kind.AUTO_RESUME


def M(day: int) -> dt.date:
    return dt.date(2025, 3, day)


def ev(type_: str, label: str) -> tuple[str, str]:
    return (f"subscription.{type_}" if "." not in type_ else type_, label)


# day -> what that day creates (orders as (label, billing date, status) after the day)
EXPECTED = {
    1: {"notices": [("A", UP, M(3))], "events": [ev("paused", "D"), ev("upcoming_order", "A")]},
    2: {"notices": [("B", UP, M(5))], "events": [ev("skipped", "C"), ev("upcoming_order", "B")]},
    3: {
        "orders": [("A", M(3), PAID)],
        "notices": [("F", UP, M(6))],
        "events": [ev("upcoming_order", "F"), ev("transaction_succeeded", "A")],
    },
    4: {"notices": [("E", UP, M(7))], "events": [ev("upcoming_order", "E")]},
    5: {"orders": [("B", M(5), PAID)], "events": [ev("transaction_succeeded", "B")]},
    6: {"orders": [("F", M(6), PAID)], "events": [ev("transaction_succeeded", "F")]},
    7: {
        "orders": [("E", M(7), FAILED)],
        "notices": [("A", UP, M(10))],
        "events": [ev("upcoming_order", "A"), ev("transaction_failed", "E")],
    },
    8: {},
    9: {  # the card is replaced in the morning: the failed order is paid at once (DST switch day)
        "orders": [("E", M(7), PAID)],
        "events": [ev("payment_method_updated", "E"), ev("transaction_succeeded", "E")],
    },
    10: {
        "orders": [("A", M(10), PAID)],
        "notices": [("F", UP, M(13))],
        "events": [ev("upcoming_order", "F"), ev("transaction_succeeded", "A")],
    },
    11: {"notices": [("G", UP, M(14))], "events": [ev("upcoming_order", "G")]},
    12: {},  # C's skipped order: no order, no charge, no event
    13: {
        "orders": [("F", M(13), PAID)],
        "notices": [("D", RESUME, M(20))],
        "events": [ev("auto_resume_upcoming", "D"), ev("transaction_succeeded", "F")],
    },
    14: {
        "orders": [("G", M(14), PAID)],
        "notices": [("A", UP, M(17))],
        "events": [
            ev("canceled", "F"),
            ev("customer.deactivated", "F"),
            ev("upcoming_order", "A"),
            ev("transaction_succeeded", "G"),
        ],
    },
    15: {},
    16: {},
    17: {"orders": [("A", M(17), PAID)], "events": [ev("transaction_succeeded", "A")]},
    18: {},
    19: {},
    20: {"events": [ev("activated", "D")]},
    21: {"notices": [("A", UP, M(24))], "events": [ev("upcoming_order", "A")]},
    22: {"notices": [("D", UP, M(25))], "events": [ev("upcoming_order", "D")]},
    23: {},
    24: {"orders": [("A", M(24), PAID)], "events": [ev("transaction_succeeded", "A")]},
    25: {
        "orders": [("D", M(25), PAID)],
        "notices": [("G", UP, M(28))],
        "events": [ev("upcoming_order", "G"), ev("transaction_succeeded", "D")],
    },
    26: {},
    27: {},
    28: {
        "orders": [("G", M(28), PAID)],
        "notices": [("A", UP, M(31))],
        "events": [ev("upcoming_order", "A"), ev("transaction_succeeded", "G")],
    },
    29: {"notices": [("D", UP, dt.date(2025, 4, 1))], "events": [ev("upcoming_order", "D")]},
    30: {},
    31: {"orders": [("A", M(31), PAID)], "events": [ev("transaction_succeeded", "A")]},
}


def test_a_full_month_day_by_day(time_machine, django_capture_on_commit_callbacks):
    time_machine.move_to(dt.datetime(2025, 2, 28, 12, 0, tzinfo=NY), tick=False)
    shop = f.ShopFactory(timezone="America/New_York", billing_time=dt.time(9, 0), upcoming_notice_days=3)

    def plan(unit, count=1):
        return f.PlanFactory(shop=shop, interval_unit=unit, interval_count=count)

    def sub(label, plan_, first, token="tok_success"):
        customer = f.CustomerFactory(shop=shop, email=f"{label.lower()}@example.com")
        method = f.PaymentMethodFactory(customer=customer, token=token)
        return f.SubscriptionFactory(
            customer=customer,
            payment_method=method,
            plan=plan_,
            next_billing_date=first,
            anchor_day=first.day,
        )

    weekly, monthly = plan(IntervalUnit.WEEK), plan(IntervalUnit.MONTH)
    subs = {
        "A": sub("A", weekly, M(3)),
        "B": sub("B", monthly, M(5)),
        "C": sub("C", monthly, M(12)),
        "D": sub("D", weekly, M(4)),
        "E": sub("E", monthly, M(7), token="tok_declined"),
        "F": sub("F", weekly, M(6)),
        "G": sub("G", plan(IntervalUnit.WEEK, 2), M(14)),
    }
    label_of_sub = {s.pk: label for label, s in subs.items()}
    label_of_customer = {s.customer_id: label for label, s in subs.items()}
    customer = Actor.customer("customer@example.com")

    def morning_actions(day):
        if day == 1:
            lifecycle.subscription_pause(subscription=subs["D"], actor=customer, resume_on=M(20))
        elif day == 2:
            lifecycle.subscription_skip(subscription=subs["C"], actor=customer, date=M(12))
        elif day == 9:
            new_card = f.PaymentMethodFactory(customer=subs["E"].customer, token="tok_success")
            with django_capture_on_commit_callbacks(execute=True):
                lifecycle.subscription_update_payment_method(
                    subscription=subs["E"], actor=customer, payment_method=new_card
                )
        elif day == 14:
            lifecycle.subscription_cancel(subscription=subs["F"], actor=customer, reason="Moving abroad")

    def event_label(event):
        data = event.payload["data"]
        if "subscription" in data:
            return label_of_sub[data["subscription"]["id"]]
        return label_of_customer[data["customer"]["id"]]

    seen_events: set = set()
    seen_notices: set = set()
    orders: dict = {}
    for day in range(1, 32):
        time_machine.move_to(dt.datetime.combine(M(day), dt.time(8, 0), NY), tick=False)
        morning_actions(day)
        time_machine.move_to(dt.datetime.combine(M(day), dt.time(10, 0), NY), tick=False)
        notices.notices_tick()
        assert billing.billing_tick() == [shop.pk]
        # A second tick the same day (a retried task, a second beat) changes nothing.
        notices.notices_tick()
        assert billing.billing_tick() == []

        expected = EXPECTED[day]
        new_events = [e for e in OutboxEvent.objects.all() if e.pk not in seen_events]
        seen_events.update(e.pk for e in new_events)
        assert sorted((e.type, event_label(e)) for e in new_events) == sorted(expected.get("events", [])), day

        new_notices = [n for n in Notice.objects.all() if n.pk not in seen_notices]
        seen_notices.update(n.pk for n in new_notices)
        assert sorted((label_of_sub[n.subscription_id], n.kind, n.date) for n in new_notices) == sorted(
            expected.get("notices", [])
        ), day

        for label, date, status in expected.get("orders", []):
            orders[(label, date)] = status
        actual = {(label_of_sub[o.subscription_id], o.billing_date): o.status for o in Order.objects.all()}
        assert actual == orders, day

    # The month in numbers.
    runs = list(
        shop.billing_runs.order_by("run_date").values_list("run_date", "charged", "failed", "skipped")
    )
    assert [r[0] for r in runs] == [M(d) for d in range(1, 32)]
    assert sum(r[1] for r in runs) == 11  # E's recovery was charged outside a run (payment method update)
    assert sum(r[2] for r in runs) == 1 and sum(r[3] for r in runs) == 1
    for label, next_date in {
        "A": dt.date(2025, 4, 7),
        "B": dt.date(2025, 4, 5),
        "C": dt.date(2025, 4, 12),
        "D": dt.date(2025, 4, 1),
        "E": dt.date(2025, 4, 7),
        "G": dt.date(2025, 4, 11),
    }.items():
        subs[label].refresh_from_db()
        assert subs[label].next_billing_date == next_date, label
    subs["F"].refresh_from_db()
    assert subs["F"].status == "CANCELLED" and subs["F"].order_count == 2
