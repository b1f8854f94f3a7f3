"""When billing happens: the shop's local billing time and date (DST switch days in four zones,
Auckland ahead of UTC), calendar-correct renewals (month ends, leap days), and catching up after
the workers were down."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from subscriptions.actors import Actor
from subscriptions.models import BillingRun, IntervalUnit, Order, SandboxCharge
from subscriptions.services import billing, lifecycle
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
D = dt.date
UTC = dt.UTC


def _shop(tz, billing_time=dt.time(9, 0), **kwargs):
    return f.ShopFactory(timezone=tz, billing_time=billing_time, **kwargs)


def _sub(shop, *, unit=IntervalUnit.MONTH, count=1, token="tok_success", **kwargs):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token=token)
    plan = f.PlanFactory(shop=shop, interval_unit=unit, interval_count=count)
    return f.SubscriptionFactory(customer=customer, payment_method=method, plan=plan, **kwargs)


def _orders(sub=None):
    qs = Order.objects.all() if sub is None else Order.objects.filter(subscription=sub)
    return list(qs.order_by("billing_date").values_list("billing_date", flat=True))


def _simulate_ticks(time_machine, start: dt.datetime, end: dt.datetime, step=dt.timedelta(minutes=30)):
    """Tick every `step` from start to end (UTC); returns [(shop id, local time of the tick)] per run."""
    runs = []
    now = start
    while now <= end:
        time_machine.move_to(now, tick=False)
        for shop_id in billing.billing_tick():
            runs.append((shop_id, now))
        now += step
    return runs


# ------------------------------------------------------------------ billing time, DST, zones

DST_CASES = [
    # zone, first local date simulated (three days from local midnight); a DST switch on the middle day
    ("America/Los_Angeles", D(2025, 3, 8)),  # spring forward 9 March 02:00 -> 03:00
    ("America/Los_Angeles", D(2025, 11, 1)),  # fall back 2 November 02:00 -> 01:00
    ("Europe/London", D(2025, 3, 29)),  # 30 March 01:00 -> 02:00
    ("Europe/London", D(2025, 10, 25)),  # 26 October 02:00 -> 01:00
    ("Pacific/Auckland", D(2025, 4, 5)),  # 6 April 03:00 -> 02:00
    ("Pacific/Auckland", D(2025, 9, 27)),  # 28 September 02:00 -> 03:00
    ("Asia/Kolkata", D(2025, 3, 8)),  # no DST, +05:30
]


@pytest.mark.parametrize("tz,first", DST_CASES, ids=[f"{tz}-{d}" for tz, d in DST_CASES])
def test_billing_runs_once_per_local_day_at_the_local_billing_time_across_dst(time_machine, tz, first):
    shop = _shop(tz)
    daily = _sub(shop, unit=IntervalUnit.DAY, next_billing_date=first)
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(first, dt.time(0, 0), zone).astimezone(UTC)
    end = dt.datetime.combine(first + dt.timedelta(days=3), dt.time(0, 0), zone).astimezone(UTC)
    runs = _simulate_ticks(time_machine, start, end - dt.timedelta(minutes=1))
    days = [first + dt.timedelta(days=n) for n in range(3)]
    # One run per local day, at the first tick at or after 09:00 local — 09:00 sharp, whatever the offset.
    assert [(shop_id, when.astimezone(zone).date()) for shop_id, when in runs] == [(shop.pk, d) for d in days]
    assert {when.astimezone(zone).time() for _, when in runs} == {dt.time(9, 0)}
    assert list(BillingRun.objects.order_by("run_date").values_list("run_date", flat=True)) == days
    assert _orders(daily) == days  # each order on its own local date
    daily.refresh_from_db()
    assert daily.next_billing_date == first + dt.timedelta(days=3)


def test_billing_time_in_the_spring_forward_gap_runs_right_after_the_gap(time_machine):
    zone = ZoneInfo("America/Los_Angeles")
    shop = _shop("America/Los_Angeles", billing_time=dt.time(2, 30))
    start = dt.datetime(2025, 3, 8, 0, 0, tzinfo=zone).astimezone(UTC)
    end = dt.datetime(2025, 3, 10, 23, 59, tzinfo=zone).astimezone(UTC)
    runs = [when.astimezone(zone) for _, when in _simulate_ticks(time_machine, start, end)]
    assert [(r.date(), r.time(), r.utcoffset()) for r in runs] == [
        (D(2025, 3, 8), dt.time(2, 30), dt.timedelta(hours=-8)),
        (D(2025, 3, 9), dt.time(3, 0), dt.timedelta(hours=-7)),  # 02:30 does not exist that night
        (D(2025, 3, 10), dt.time(2, 30), dt.timedelta(hours=-7)),
    ]
    assert shop.billing_runs.count() == 3


def test_billing_time_in_the_repeated_fall_back_hour_runs_once(time_machine):
    zone = ZoneInfo("America/Los_Angeles")
    shop = _shop("America/Los_Angeles", billing_time=dt.time(1, 30))
    start = dt.datetime(2025, 11, 2, 0, 0, tzinfo=zone).astimezone(UTC)
    end = start + dt.timedelta(hours=25)  # the local day of 2 November has 25 hours
    runs = [when.astimezone(zone) for _, when in _simulate_ticks(time_machine, start, end)]
    assert [(r.date(), r.time(), r.utcoffset()) for r in runs] == [
        (D(2025, 11, 2), dt.time(1, 30), dt.timedelta(hours=-7)),  # the first 01:30 (PDT), not again
    ]
    assert shop.billing_runs.count() == 1


def test_auckland_bills_on_its_own_date_while_utc_is_still_the_day_before(time_machine):
    auckland = _shop("Pacific/Auckland")
    london = _shop("Europe/London")
    nz_sub = _sub(auckland, next_billing_date=D(2025, 1, 15))
    uk_sub = _sub(london, next_billing_date=D(2025, 1, 15))
    time_machine.move_to(dt.datetime(2025, 1, 14, 20, 0, tzinfo=UTC), tick=False)  # 09:00 NZDT on the 15th
    assert sorted(billing.billing_tick()) == [auckland.pk, london.pk]  # London: 20:00 on the 14th
    assert _orders(nz_sub) == [D(2025, 1, 15)] and _orders(uk_sub) == []
    assert list(auckland.billing_runs.values_list("run_date", flat=True)) == [D(2025, 1, 15)]
    assert list(london.billing_runs.values_list("run_date", flat=True)) == [D(2025, 1, 14)]
    time_machine.move_to(dt.datetime(2025, 1, 15, 8, 59, 59, tzinfo=UTC), tick=False)
    assert billing.billing_tick() == []
    time_machine.move_to(dt.datetime(2025, 1, 15, 9, 0, tzinfo=UTC), tick=False)
    assert billing.billing_tick() == [london.pk]
    assert _orders(uk_sub) == [D(2025, 1, 15)]


@pytest.mark.parametrize(
    "tz,before,at",
    [
        ("America/New_York", dt.datetime(2025, 1, 15, 13, 59, 59), dt.datetime(2025, 1, 15, 14, 0, 0)),
        ("Asia/Kolkata", dt.datetime(2025, 1, 15, 3, 29, 59), dt.datetime(2025, 1, 15, 3, 30, 0)),
        ("Pacific/Auckland", dt.datetime(2025, 1, 14, 19, 59, 59), dt.datetime(2025, 1, 14, 20, 0, 0)),
    ],
)
def test_billing_time_boundary_085959_versus_090000(time_machine, tz, before, at):
    shop = _shop(tz)
    sub = _sub(shop, next_billing_date=D(2025, 1, 15))
    time_machine.move_to(before.replace(tzinfo=UTC), tick=False)
    assert shop.local_now().time() == dt.time(8, 59, 59)
    assert billing.billing_tick() == []
    assert _orders(sub) == []
    time_machine.move_to(at.replace(tzinfo=UTC), tick=False)
    assert billing.billing_tick() == [shop.pk]
    assert _orders(sub) == [D(2025, 1, 15)]


# ------------------------------------------------------------------ calendar


def test_month_end_renewals_return_to_the_31st(time_machine):
    shop = _shop("America/New_York")
    sub = _sub(shop, next_billing_date=D(2025, 1, 31), anchor_day=31)
    day = D(2025, 1, 30)
    while day <= D(2025, 6, 1):  # every day, so no extra order sneaks in
        billing.shop_run_billing(shop=shop, run_date=day)
        day += dt.timedelta(days=1)
    assert _orders(sub) == [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31)]
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2025, 6, 30)
    assert sub.order_count == 5


def test_leap_day_yearly_renewals_fall_back_to_feb_28_and_return_to_feb_29():
    shop = _shop("America/New_York")
    sub = _sub(shop, unit=IntervalUnit.YEAR, next_billing_date=D(2028, 2, 29), anchor_day=29)
    for run_date in (
        D(2028, 2, 29),
        D(2029, 2, 27),  # not yet
        D(2029, 2, 28),
        D(2029, 3, 1),  # already billed
        D(2030, 2, 28),
        D(2031, 2, 28),
        D(2032, 2, 28),  # not yet: 2032 has a 29th
        D(2032, 2, 29),
    ):
        billing.shop_run_billing(shop=shop, run_date=run_date)
    assert _orders(sub) == [D(2028, 2, 29), D(2029, 2, 28), D(2030, 2, 28), D(2031, 2, 28), D(2032, 2, 29)]
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2033, 2, 28)


# ------------------------------------------------------------------ missed ticks


def test_missed_ticks_are_caught_up_each_date_once_and_no_next_date_stays_in_the_past(time_machine):
    shop = _shop("America/New_York")
    time_machine.move_to(dt.datetime(2025, 1, 14, 15, 0, tzinfo=UTC), tick=False)  # 10:00 local
    assert billing.billing_tick() == [shop.pk]
    monthly = {day: _sub(shop, next_billing_date=D(2025, 1, day)) for day in (15, 16, 17, 18)}
    weekly = _sub(shop, unit=IntervalUnit.WEEK, next_billing_date=D(2025, 1, 15))
    daily = _sub(shop, unit=IntervalUnit.DAY, next_billing_date=D(2025, 1, 15))
    skipping = _sub(shop, next_billing_date=D(2025, 1, 16))
    f.SkippedDateFactory(subscription=skipping, date=D(2025, 1, 16))
    # Workers down for three days: the next tick is on the 17th at 10:00 local.
    time_machine.move_to(dt.datetime(2025, 1, 17, 15, 0, tzinfo=UTC), tick=False)
    assert billing.billing_tick() == [shop.pk]
    assert _orders(monthly[15]) == [D(2025, 1, 15)]
    assert _orders(monthly[16]) == [D(2025, 1, 16)]
    assert _orders(monthly[17]) == [D(2025, 1, 17)]
    assert _orders(monthly[18]) == []
    assert _orders(weekly) == [D(2025, 1, 15)]
    assert _orders(daily) == [D(2025, 1, 15), D(2025, 1, 16), D(2025, 1, 17)]
    assert _orders(skipping) == []
    assert Order.objects.filter(status=Order.Status.PAID).count() == Order.objects.count() == 7
    assert SandboxCharge.objects.count() == 7
    run = shop.billing_runs.get(run_date=D(2025, 1, 17))
    assert (run.charged, run.failed, run.skipped) == (7, 0, 1)
    for sub in [*monthly.values(), weekly, daily, skipping]:
        sub.refresh_from_db()
        assert sub.next_billing_date > D(2025, 1, 17), sub
    assert (weekly.next_billing_date, daily.next_billing_date, skipping.next_billing_date) == (
        D(2025, 1, 22),
        D(2025, 1, 18),
        D(2025, 2, 16),
    )
    # Ticking again the same day bills nothing more; the next day bills only that day's orders.
    assert billing.billing_tick() == []
    billing.shop_run_billing(shop=shop, run_date=D(2025, 1, 17))
    assert Order.objects.count() == 7
    time_machine.move_to(dt.datetime(2025, 1, 18, 15, 0, tzinfo=UTC), tick=False)
    assert billing.billing_tick() == [shop.pk]
    assert sorted(
        Order.objects.filter(billing_date=D(2025, 1, 18)).values_list("subscription", flat=True)
    ) == [
        monthly[18].pk,
        daily.pk,
    ]
    assert Order.objects.count() == SandboxCharge.objects.count() == 9


# ------------------------------------------------------------------ send now


def test_send_now_bills_at_the_next_billing_time(time_machine):
    shop = _shop("America/New_York")
    sub = _sub(shop, next_billing_date=D(2025, 2, 10), anchor_day=10)
    time_machine.move_to(dt.datetime(2025, 1, 15, 13, 0, tzinfo=UTC), tick=False)  # 08:00 local
    lifecycle.subscription_send_now(subscription=sub, actor=Actor.customer("c@example.com"))
    event = OutboxEvent.objects.get(type="subscription.send_now")
    assert event.payload["data"]["previous"]["next_billing_date"] == "2025-02-10"
    assert event.payload["data"]["subscription"]["next_billing_date"] == "2025-01-15"
    time_machine.move_to(dt.datetime(2025, 1, 15, 13, 30, tzinfo=UTC), tick=False)  # 08:30: not yet
    assert billing.billing_tick() == [] and _orders(sub) == []
    time_machine.move_to(dt.datetime(2025, 1, 15, 14, 0, tzinfo=UTC), tick=False)  # 09:00
    assert billing.billing_tick() == [shop.pk]
    assert _orders(sub) == [D(2025, 1, 15)]
    sub.refresh_from_db()
    # The cadence restarts from the order sent now: no second order 26 days later on the old day.
    assert sub.next_billing_date == D(2025, 2, 15)
    assert list(OutboxEvent.objects.order_by("occurred_at").values_list("type", flat=True)) == [
        "subscription.send_now",
        "subscription.transaction_succeeded",
    ]


def test_send_now_after_todays_billing_time_bills_tomorrow(time_machine):
    shop = _shop("America/New_York")
    sub = _sub(shop, next_billing_date=D(2025, 2, 10), anchor_day=10)
    time_machine.move_to(dt.datetime(2025, 1, 15, 15, 0, tzinfo=UTC), tick=False)  # 10:00 local
    assert billing.billing_tick() == [shop.pk]  # today's run is done
    lifecycle.subscription_send_now(subscription=sub, actor=Actor.customer("c@example.com"))
    sub.refresh_from_db()
    assert sub.next_billing_date == D(2025, 1, 16)
    assert billing.billing_tick() == [] and _orders(sub) == []
    time_machine.move_to(dt.datetime(2025, 1, 16, 14, 0, tzinfo=UTC), tick=False)
    assert billing.billing_tick() == [shop.pk]
    assert _orders(sub) == [D(2025, 1, 16)]
