"""Scheduled notices (upcoming order N days ahead, auto-resume 7 days ahead), the auto-resume itself,
and the idempotent backfill commands."""

import datetime as dt

import pytest
from django.apps import apps
from django.core.management import call_command

from subscriptions.actors import Actor
from subscriptions.models import Notice, Subscription
from subscriptions.services import lifecycle, notices
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = D(2025, 1, 15)  # the suite's clock (tests/subscriptions/conftest.py)


@pytest.fixture
def shop(db):
    return f.ShopFactory(timezone="America/New_York")


def _events(type_):
    return [
        (e.payload["data"]["subscription"]["id"], e.payload["data"])
        for e in OutboxEvent.objects.filter(type=type_).order_by("occurred_at")
    ]


def _notices():
    return sorted(Notice.objects.values_list("subscription_id", "kind", "date"))


def test_upcoming_order_notice_exactly_once_even_when_the_tick_runs_twice(shop):
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    later = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 19))
    for _ in range(2):
        notices.shop_send_notices(shop=shop, today=TODAY)
        notices.notices_tick()
    assert _notices() == [(sub.pk, "upcoming_order", D(2025, 1, 18))]
    [(sub_id, data)] = _events("subscription.upcoming_order")
    assert sub_id == sub.pk and data["days_until_order"] == 3 and data["order_date"] == "2025-01-18"
    notices.shop_send_notices(shop=shop, today=D(2025, 1, 16))
    assert (later.pk, "upcoming_order", D(2025, 1, 19)) in _notices()
    assert len(_events("subscription.upcoming_order")) == 2


def test_a_new_notice_when_the_date_changes_after_a_notice(shop):
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    notices.shop_send_notices(shop=shop, today=TODAY)
    lifecycle.subscription_set_next_billing_date(
        subscription=sub, actor=Actor.customer("c@example.com"), date=D(2025, 1, 17)
    )
    notices.shop_send_notices(shop=shop, today=TODAY)
    notices.shop_send_notices(shop=shop, today=TODAY)
    assert _notices() == [
        (sub.pk, "upcoming_order", D(2025, 1, 17)),
        (sub.pk, "upcoming_order", D(2025, 1, 18)),
    ]
    assert [d["order_date"] for _, d in _events("subscription.upcoming_order")] == [
        "2025-01-18",
        "2025-01-17",
    ]


def test_a_date_changed_back_to_a_noticed_date_is_not_noticed_twice(shop):
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    actor = Actor.customer("c@example.com")
    notices.shop_send_notices(shop=shop, today=TODAY)
    lifecycle.subscription_set_next_billing_date(subscription=sub, actor=actor, date=D(2025, 1, 17))
    notices.shop_send_notices(shop=shop, today=TODAY)
    sub.refresh_from_db()
    lifecycle.subscription_set_next_billing_date(subscription=sub, actor=actor, date=D(2025, 1, 18))
    notices.shop_send_notices(shop=shop, today=TODAY)
    assert len(_events("subscription.upcoming_order")) == 2  # 18th, 17th; not the 18th again
    # and the scan stops offering it once its notice is known
    assert notices.due_upcoming_order_ids(shop, TODAY) == []


def test_a_notice_sent_before_the_scan_hint_existed_is_not_sent_again(shop):
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    Notice.objects.create(shop=shop, subscription=sub, kind="upcoming_order", date=D(2025, 1, 18))
    assert notices.due_upcoming_order_ids(shop, TODAY) == [sub.pk]  # no hint yet: a candidate
    assert notices.shop_send_notices(shop=shop, today=TODAY)["upcoming_order"] == 0
    assert _events("subscription.upcoming_order") == []
    assert notices.due_upcoming_order_ids(shop, TODAY) == []  # the hint is set now


def test_the_scan_sets_aside_only_the_skipped_next_date(shop):
    skipped_next = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 17))
    lifecycle.subscription_skip(subscription=skipped_next, actor=Actor.customer("c@example.com"))
    skipped_later = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 16))
    f.SkippedDateFactory(shop=shop, subscription=skipped_later, date=D(2025, 1, 18))
    due = notices.due_upcoming_order_ids(shop, TODAY)
    assert due == [skipped_later.pk]


def test_skipped_paused_and_cancelled_get_no_upcoming_notice(shop):
    skipped = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 17))
    f.SkippedDateFactory(subscription=skipped)
    f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 17), status=Subscription.Status.PAUSED)
    f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 17), status=Subscription.Status.CANCELLED)
    notices.shop_send_notices(shop=shop, today=TODAY)
    assert _notices() == []


@pytest.mark.parametrize("days", [1, 30])
def test_upcoming_notice_days_setting(days):
    shop = f.ShopFactory(timezone="America/New_York", upcoming_notice_days=days)
    inside = f.SubscriptionFactory(shop=shop, next_billing_date=TODAY + dt.timedelta(days=days))
    outside = f.SubscriptionFactory(shop=shop, next_billing_date=TODAY + dt.timedelta(days=days + 1))
    f.SubscriptionFactory(shop=shop, next_billing_date=TODAY)  # today: billed, not announced
    notices.shop_send_notices(shop=shop, today=TODAY)
    assert _notices() == [(inside.pk, "upcoming_order", TODAY + dt.timedelta(days=days))]
    assert [d["days_until_order"] for _, d in _events("subscription.upcoming_order")] == [days]
    notices.shop_send_notices(shop=shop, today=TODAY + dt.timedelta(days=1))
    assert (outside.pk, "upcoming_order", TODAY + dt.timedelta(days=days + 1)) in _notices()


def test_auto_resume_notice_seven_days_ahead_then_the_resume_on_the_date(shop, time_machine):
    sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 20), anchor_day=20)
    lifecycle.subscription_pause(
        subscription=sub, actor=Actor.customer("c@example.com"), resume_on=D(2025, 1, 30)
    )
    day = TODAY
    while day <= D(2025, 2, 1):
        time_machine.move_to(dt.datetime.combine(day, dt.time(15, 0), dt.UTC), tick=True)
        notices.notices_tick()
        notices.notices_tick()
        day += dt.timedelta(days=1)
    assert _notices() == [(sub.pk, "auto_resume_upcoming", D(2025, 1, 30))]
    notice = Notice.objects.get(kind="auto_resume_upcoming")
    assert notice.sent_at.date() == D(2025, 1, 23)  # 7 days ahead
    [(_, data)] = _events("subscription.auto_resume_upcoming")
    assert data["auto_resume_date"] == "2025-01-30" and data["days_until_resume"] == 7
    [(_, activated)] = _events("subscription.activated")
    assert activated["previous"]["status"] == "PAUSED"
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE and sub.auto_resume_date is None
    assert sub.next_billing_date == D(2025, 2, 20)  # the missed 20 January is not billed back


# ------------------------------------------------------------------ backfill commands


def _rows():
    state = {}
    for label in ("subscriptions", "webhooks"):
        for model in apps.get_app_config(label).get_models():
            rows = model.objects.order_by("pk").values()
            state[model._meta.label] = [
                {k: v for k, v in row.items() if k not in ("finished_at", "updated_at")} for row in rows
            ]
    return state


def test_run_billing_backfill_is_idempotent(shop):
    f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 10))
    declined = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 12))
    declined.payment_method.token = "tok_declined"
    declined.payment_method.save()
    call_command("run_billing", shop=shop.domain, date="2025-01-12")
    first = _rows()
    assert len(first["subscriptions.Order"]) == 2 and len(first["subscriptions.SandboxCharge"]) == 2
    call_command("run_billing", "--shop", shop.domain, "--date", "2025-01-12")
    assert _rows() == first


def test_send_notices_backfill_is_idempotent(shop):
    f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    paused = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 18))
    lifecycle.subscription_pause(
        subscription=paused, actor=Actor.customer("c@example.com"), resume_on=D(2025, 1, 22)
    )
    call_command("send_notices", date="2025-01-15")
    first = _rows()
    assert len(first["subscriptions.Notice"]) == 2
    call_command("send_notices", "--date", "2025-01-15")
    assert _rows() == first
