"""Model invariants: calendar arithmetic, database constraints, prices, shop-local time."""

import calendar
import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from subscriptions.models import DiscountCode, IntervalUnit, Plan, Subscription, add_interval
from tests import factories as f

D = dt.date
MONTH, WEEK, DAY, YEAR = IntervalUnit.MONTH, IntervalUnit.WEEK, IntervalUnit.DAY, IntervalUnit.YEAR


# ---------------------------------------------------------------- add_interval


@pytest.mark.parametrize(
    "start, unit, count, anchor, expected",
    [
        (D(2025, 1, 31), MONTH, 1, None, D(2025, 2, 28)),
        (D(2024, 1, 31), MONTH, 1, None, D(2024, 2, 29)),  # leap year
        (D(2025, 2, 28), MONTH, 1, 31, D(2025, 3, 31)),  # back to the anchor day
        (D(2025, 3, 31), MONTH, 1, 31, D(2025, 4, 30)),
        (D(2025, 1, 31), MONTH, 3, None, D(2025, 4, 30)),
        (D(2025, 11, 15), MONTH, 2, None, D(2026, 1, 15)),  # across the year end
        (D(2025, 12, 31), MONTH, 1, None, D(2026, 1, 31)),
        (D(2025, 1, 15), MONTH, 12, None, D(2026, 1, 15)),
        (D(2025, 1, 29), WEEK, 1, None, D(2025, 2, 5)),
        (D(2025, 12, 29), WEEK, 2, 29, D(2026, 1, 12)),  # weeks ignore the anchor
        (D(2025, 2, 27), DAY, 3, None, D(2025, 3, 2)),
        (D(2024, 2, 29), YEAR, 1, None, D(2025, 2, 28)),
        (D(2025, 2, 28), YEAR, 3, 29, D(2028, 2, 29)),  # next leap year keeps the anchor
        (D(2024, 2, 29), YEAR, 4, None, D(2028, 2, 29)),
    ],
)
def test_add_interval_is_calendar_correct(start, unit, count, anchor, expected):
    assert add_interval(start, unit, count, anchor) == expected


def test_monthly_schedule_from_jan_31_returns_to_the_31st():
    date, schedule = D(2025, 1, 31), []
    for _ in range(4):
        date = add_interval(date, MONTH, 1, anchor_day=31)
        schedule.append(date)
    assert schedule == [D(2025, 2, 28), D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31)]


dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 12, 31))
units = st.sampled_from([DAY, WEEK, MONTH, YEAR])
counts = st.integers(min_value=1, max_value=36)
anchors = st.integers(min_value=1, max_value=31)


@given(date=dates, unit=units, count=counts, anchor=st.none() | anchors)
def test_add_interval_always_moves_forward(date, unit, count, anchor):
    assert add_interval(date, unit, count, anchor) > date


@given(date=dates, count=counts, anchor=anchors)
def test_monthly_keeps_the_anchor_day_when_the_month_has_it(date, count, anchor):
    result = add_interval(date, MONTH, count, anchor)
    month_length = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(anchor, month_length)
    months_apart = (result.year - date.year) * 12 + result.month - date.month
    assert months_apart == count


@given(date=dates, a=counts, b=counts, anchor=anchors)
def test_monthly_steps_compose_with_an_anchor(date, a, b, anchor):
    """Billing month by month lands on the same dates as jumping ahead: no drift after short months."""
    stepwise = add_interval(add_interval(date, MONTH, a, anchor), MONTH, b, anchor)
    assert stepwise == add_interval(date, MONTH, a + b, anchor)


@given(date=dates, count=counts)
def test_days_and_weeks_are_exact(date, count):
    assert (add_interval(date, DAY, count) - date).days == count
    assert (add_interval(date, WEEK, count) - date).days == 7 * count


# ---------------------------------------------------------------- prices


@pytest.mark.parametrize(
    "discount_type, value, base, expected",
    [
        (Plan.DiscountType.NONE, "0", "19.99", "19.99"),
        (Plan.DiscountType.PERCENTAGE, "10", "20.00", "18.00"),
        (Plan.DiscountType.PERCENTAGE, "15", "9.99", "8.49"),
        (Plan.DiscountType.PERCENTAGE, "100", "20.00", "0.00"),
        (Plan.DiscountType.FIXED, "2.50", "20.00", "17.50"),
        (Plan.DiscountType.FIXED, "25.00", "20.00", "0.00"),  # never negative
    ],
)
def test_plan_unit_price(discount_type, value, base, expected):
    plan = Plan(discount_type=discount_type, discount_value=Decimal(value))
    price = plan.unit_price(Decimal(base))
    assert price == Decimal(expected)
    assert isinstance(price, Decimal)


@pytest.mark.parametrize(
    "kind, value, subtotal, expected",
    [
        (DiscountCode.Kind.PERCENTAGE, "10", "45.00", "4.50"),
        (DiscountCode.Kind.PERCENTAGE, "33", "10.00", "3.30"),
        (DiscountCode.Kind.PERCENTAGE, "12.5", "9.99", "1.25"),
        (DiscountCode.Kind.FIXED, "5.00", "45.00", "5.00"),
        (DiscountCode.Kind.FIXED, "50.00", "45.00", "45.00"),  # never more than the subtotal
    ],
)
def test_discount_code_amount_off(kind, value, subtotal, expected):
    code = DiscountCode(kind=kind, value=Decimal(value))
    assert code.amount_off(Decimal(subtotal)) == Decimal(expected)


@pytest.mark.django_db
def test_discount_code_is_stored_in_capitals():
    assert f.DiscountCodeFactory(code=" summer25 ").code == "SUMMER25"


# ---------------------------------------------------------------- database constraints


def assert_refused_by_database(build):
    with pytest.raises(IntegrityError), transaction.atomic():
        build()


@pytest.mark.django_db
class TestConstraints:
    @pytest.mark.parametrize("quantity", [0, -1])
    def test_line_quantity_must_be_positive(self, quantity):
        sub = f.SubscriptionFactory(lines=0)
        assert_refused_by_database(lambda: f.SubscriptionLineFactory(subscription=sub, quantity=quantity))

    def test_line_quantity_update_to_zero_is_refused(self):
        line = f.SubscriptionFactory().lines.get()
        line.quantity = 0
        assert_refused_by_database(line.save)

    def test_sku_is_unique_per_shop(self):
        shop = f.ShopFactory()
        f.VariantFactory(shop=shop, sku="BEANS")
        assert_refused_by_database(lambda: f.VariantFactory(shop=shop, sku="BEANS"))

    def test_same_sku_in_two_shops_is_fine(self):
        f.VariantFactory(sku="BEANS")
        f.VariantFactory(sku="BEANS")

    def test_one_active_skip_per_date(self):
        skip = f.SkippedDateFactory()
        assert_refused_by_database(
            lambda: f.SkippedDateFactory(subscription=skip.subscription, date=skip.date)
        )

    def test_date_can_be_skipped_again_after_unskip(self):
        skip = f.SkippedDateFactory(unskipped_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        again = f.SkippedDateFactory(subscription=skip.subscription, date=skip.date)
        assert again.unskipped_at is None

    def test_active_subscription_needs_a_next_billing_date(self):
        assert_refused_by_database(lambda: f.SubscriptionFactory(next_billing_date=None, lines=0))

    @pytest.mark.parametrize("status", [Subscription.Status.PAUSED, Subscription.Status.CANCELLED])
    def test_paused_or_cancelled_may_have_no_next_billing_date(self, status):
        f.SubscriptionFactory(status=status, next_billing_date=None, lines=0)

    @pytest.mark.parametrize("status", [Subscription.Status.ACTIVE, Subscription.Status.CANCELLED])
    def test_auto_resume_only_when_paused(self, status):
        assert_refused_by_database(
            lambda: f.SubscriptionFactory(status=status, auto_resume_date=D(2030, 1, 1), lines=0)
        )

    def test_paused_subscription_may_auto_resume(self):
        sub = f.SubscriptionFactory(status=Subscription.Status.PAUSED, auto_resume_date=D(2030, 1, 1))
        assert sub.auto_resume_date == D(2030, 1, 1)

    def test_unknown_status_is_refused(self):
        assert_refused_by_database(lambda: f.SubscriptionFactory(status="EXPIRED", lines=0))

    def test_same_variant_twice_in_a_subscription_is_refused(self):
        line = f.SubscriptionFactory().lines.get()
        assert_refused_by_database(
            lambda: f.SubscriptionLineFactory(subscription=line.subscription, variant=line.variant)
        )

    def test_one_gift_per_billing_date(self):
        gift = f.GiftFactory()
        assert_refused_by_database(
            lambda: f.GiftFactory(subscription=gift.subscription, billing_date=gift.billing_date)
        )

    def test_customer_email_unique_per_shop(self):
        customer = f.CustomerFactory()
        assert_refused_by_database(lambda: f.CustomerFactory(shop=customer.shop, email=customer.email))
        f.CustomerFactory(email=customer.email)  # another shop

    def test_discount_code_unique_per_shop_and_applied_once(self):
        applied = f.SubscriptionDiscountFactory()
        assert_refused_by_database(lambda: f.DiscountCodeFactory(shop=applied.shop, code=applied.code.code))
        assert_refused_by_database(
            lambda: f.SubscriptionDiscountFactory(subscription=applied.subscription, code=applied.code)
        )

    def test_percentage_discount_cannot_exceed_100(self):
        assert_refused_by_database(lambda: f.DiscountCodeFactory(value=Decimal("101")))
        assert_refused_by_database(
            lambda: f.PlanFactory(
                discount_type=Plan.DiscountType.PERCENTAGE, discount_value=Decimal("100.01")
            )
        )

    def test_one_renewal_per_subscription_and_date(self):
        order = f.OrderFactory()
        assert_refused_by_database(
            lambda: f.OrderFactory(subscription=order.subscription, billing_date=order.billing_date)
        )


# ---------------------------------------------------------------- shop-local time


def at(utc: dt.datetime):
    return time_machine.travel(utc.replace(tzinfo=dt.UTC), tick=False)


AUCKLAND = {"timezone": "Pacific/Auckland", "billing_time": dt.time(9, 0)}  # UTC+13 in January
LOS_ANGELES = {"timezone": "America/Los_Angeles", "billing_time": dt.time(9, 0)}  # UTC-8 in January


@pytest.mark.parametrize(
    "utc_now, auckland_today, los_angeles_today",
    [
        (dt.datetime(2025, 1, 15, 10, 59), D(2025, 1, 15), D(2025, 1, 15)),  # 23:59 / 02:59
        (dt.datetime(2025, 1, 15, 11, 0), D(2025, 1, 16), D(2025, 1, 15)),  # 00:00 / 03:00
        (dt.datetime(2025, 1, 16, 7, 59), D(2025, 1, 16), D(2025, 1, 15)),  # 20:59 / 23:59
        (dt.datetime(2025, 1, 16, 8, 0), D(2025, 1, 16), D(2025, 1, 16)),  # 21:00 / 00:00
    ],
)
def test_local_today_is_the_date_in_the_shops_timezone(utc_now, auckland_today, los_angeles_today):
    auckland, los_angeles = f.ShopFactory.build(**AUCKLAND), f.ShopFactory.build(**LOS_ANGELES)
    with at(utc_now):
        assert auckland.local_today() == auckland_today
        assert los_angeles.local_today() == los_angeles_today


@pytest.mark.parametrize(
    "shop_kwargs, utc_now, run_date",
    [
        (AUCKLAND, dt.datetime(2025, 1, 15, 19, 59), D(2025, 1, 16)),  # 08:59 on the 16th: today
        (AUCKLAND, dt.datetime(2025, 1, 15, 20, 0), D(2025, 1, 17)),  # 09:00: the run has started
        (AUCKLAND, dt.datetime(2025, 1, 15, 11, 30), D(2025, 1, 16)),  # 00:30 on the 16th
        (LOS_ANGELES, dt.datetime(2025, 1, 15, 16, 59), D(2025, 1, 15)),  # 08:59 on the 15th
        (LOS_ANGELES, dt.datetime(2025, 1, 15, 17, 0), D(2025, 1, 16)),  # 09:00
        (LOS_ANGELES, dt.datetime(2025, 1, 16, 7, 30), D(2025, 1, 16)),  # 23:30 on the 15th
        (
            {"timezone": "America/Los_Angeles", "billing_time": dt.time(23, 45)},
            dt.datetime(2025, 1, 16, 7, 30),  # 23:30: the late run is still ahead
            D(2025, 1, 15),
        ),
        (  # summer time: Los Angeles is UTC-7 in July
            LOS_ANGELES,
            dt.datetime(2025, 7, 1, 15, 59),
            D(2025, 7, 1),
        ),
        (LOS_ANGELES, dt.datetime(2025, 7, 1, 16, 0), D(2025, 7, 2)),
    ],
)
def test_next_billing_run_date(shop_kwargs, utc_now, run_date):
    shop = f.ShopFactory.build(**shop_kwargs)
    with at(utc_now):
        assert shop.next_billing_run_date() == run_date
