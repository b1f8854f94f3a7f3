"""The dashboard: every figure against a small shop worked out by hand (see the comments)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from console.dashboard import dashboard_get
from subscriptions.models import IntervalUnit, Order, PaymentAttempt, Subscription
from tests import factories as f

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")
ACTIVE, PAUSED, CANCELLED = (
    Subscription.Status.ACTIVE,
    Subscription.Status.PAUSED,
    Subscription.Status.CANCELLED,
)


def local(y, m, d, h=12):
    return dt.datetime(y, m, d, h, 0, tzinfo=NY)


def _sub(shop, plan, lines, *, status=ACTIVE, created, next_date=dt.date(2025, 2, 10), **extra):
    sub = f.SubscriptionFactory(
        shop=shop, plan=plan, status=status, created_at=created, next_billing_date=next_date, lines=0, **extra
    )
    for price, quantity in lines:
        f.SubscriptionLineFactory(subscription=sub, unit_price=Decimal(price), quantity=quantity)
    return sub


def _order(sub, *, created, status, total="0.00", paid_at=None, attempts=(), currency="USD"):
    order = f.OrderFactory(
        subscription=sub,
        created_at=created,
        status=status,
        total=Decimal(total),
        subtotal=Decimal(total),
        paid_at=paid_at,
        currency=currency,
    )
    for number, outcome in enumerate(attempts, start=1):
        PaymentAttempt.objects.create(
            shop=sub.shop,
            order=order,
            number=number,
            idempotency_key=f"o{order.pk}-{number}",
            amount=order.total,
            currency=order.currency,
            gateway="test",
            status=outcome,
        )
    return order


@pytest.fixture
def world(shop, other_shop):
    """Today is Wednesday 15 January 2025 in New York; this week starts Monday the 13th, the first
    of the eight weeks on Monday 25 November 2024; "the last 30 days" start 16 December 15:00 UTC."""
    coffee = f.SubscriptionProgramFactory(shop=shop, name="Coffee")
    tea = f.SubscriptionProgramFactory(shop=shop, name="Tea")
    monthly = f.PlanFactory(program=coffee, interval_unit=IntervalUnit.MONTH, interval_count=1)
    fortnightly = f.PlanFactory(program=coffee, interval_unit=IntervalUnit.WEEK, interval_count=2)
    yearly = f.PlanFactory(program=tea, interval_unit=IntervalUnit.YEAR, interval_count=1)
    bimonthly = f.PlanFactory(program=tea, interval_unit=IntervalUnit.MONTH, interval_count=2)

    # MRR: 30.00 + 10 × 30.4375 / 7 / 2 (= 21.7410714…) + 120 / 12 + 35 / 2 = 79.2410714… -> 79.24
    s1 = _sub(shop, monthly, [("15.00", 2)], created=local(2024, 10, 1), next_date=dt.date(2025, 1, 15))
    s2 = _sub(shop, fortnightly, [("10.00", 1)], created=local(2024, 11, 27), next_date=dt.date(2025, 1, 17))
    s3 = _sub(shop, yearly, [("120.00", 1)], created=local(2025, 1, 13, 9), next_date=dt.date(2025, 1, 17))
    f.SkippedDateFactory(subscription=s3, date=dt.date(2025, 1, 17))  # not an upcoming order
    s4 = _sub(shop, bimonthly, [("20.00", 1), ("5.00", 3)], created=local(2024, 10, 1))
    _sub(
        shop,
        monthly,
        [("50.00", 1)],
        status=PAUSED,
        created=local(2025, 1, 8),
        next_date=dt.date(2025, 1, 16),
    )
    _sub(
        shop,
        monthly,
        [("9.00", 1)],
        status=CANCELLED,
        created=local(2024, 10, 1),
        cancelled_at=local(2025, 1, 14, 10),
        cancel_reason="Too expensive",
    )
    s7 = _sub(
        shop,
        yearly,
        [("9.00", 1)],
        status=CANCELLED,
        created=local(2024, 12, 3),
        cancelled_at=local(2024, 12, 20),
        cancel_reason="Too expensive ",
    )
    _sub(
        shop,
        monthly,
        [("9.00", 1)],
        status=CANCELLED,
        created=local(2024, 11, 1),
        cancelled_at=local(2024, 12, 31),
        cancel_reason="",
    )

    failed, ok, error = (
        PaymentAttempt.Status.FAILED,
        PaymentAttempt.Status.SUCCEEDED,
        PaymentAttempt.Status.ERROR,
    )
    # Failed payments in the window: o1 (recovered), o2, o5 -> 3 failed, 1 recovered, 33.3 %.
    _order(
        s1,
        created=local(2025, 1, 10),
        status=Order.Status.PAID,
        total="30.00",
        paid_at=local(2025, 1, 13),
        attempts=(failed, ok),
    )
    _order(s2, created=local(2025, 1, 12), status=Order.Status.FAILED, total="10.00", attempts=(failed,))
    _order(
        s4,
        created=local(2025, 1, 5),
        status=Order.Status.PAID,
        total="35.00",
        paid_at=local(2025, 1, 5),
        attempts=(ok,),
    )
    # Before the window: neither a failed payment nor revenue of the last 30 days.
    _order(
        s1,
        created=local(2024, 12, 1),
        status=Order.Status.PAID,
        total="30.00",
        paid_at=local(2024, 12, 2),
        attempts=(failed, ok),
    )
    _order(s7, created=local(2025, 1, 2), status=Order.Status.FAILED, total="9.00", attempts=(error,))
    _order(
        s3,
        created=local(2025, 1, 14),
        status=Order.Status.PAID,
        total="12.50",
        paid_at=local(2025, 1, 14),
        currency="EUR",
    )

    # Another shop's rows count nowhere.
    theirs = f.SubscriptionFactory(
        shop=other_shop, created_at=local(2025, 1, 14), next_billing_date=dt.date(2025, 1, 16)
    )
    _order(
        theirs,
        created=local(2025, 1, 14),
        status=Order.Status.PAID,
        total="999.00",
        paid_at=local(2025, 1, 14),
        attempts=(failed, ok),
    )
    return {"coffee": coffee, "tea": tea}


def test_every_figure_matches_the_hand_computed_shop(shop, world):
    d = dashboard_get(shop=shop)
    assert d.today == dt.date(2025, 1, 15)
    assert d.counts == {"ACTIVE": 4, "PAUSED": 1, "CANCELLED": 3}
    assert d.mrr == {"USD": Decimal("79.24")}
    assert [(w.start, w.new, w.churned, w.live_at_start, w.churn_rate) for w in d.weeks] == [
        (dt.date(2024, 11, 25), 1, 0, 4, Decimal("0.0")),
        (dt.date(2024, 12, 2), 1, 0, 5, Decimal("0.0")),
        (dt.date(2024, 12, 9), 0, 0, 6, Decimal("0.0")),
        (dt.date(2024, 12, 16), 0, 1, 6, Decimal("16.7")),
        (dt.date(2024, 12, 23), 0, 0, 5, Decimal("0.0")),
        (dt.date(2024, 12, 30), 0, 1, 5, Decimal("20.0")),
        (dt.date(2025, 1, 6), 1, 0, 4, Decimal("0.0")),
        (dt.date(2025, 1, 13), 1, 1, 5, Decimal("20.0")),
    ]
    assert d.upcoming == [
        (dt.date(2025, 1, 15), 1),
        (dt.date(2025, 1, 16), 0),
        (dt.date(2025, 1, 17), 1),
        (dt.date(2025, 1, 18), 0),
        (dt.date(2025, 1, 19), 0),
        (dt.date(2025, 1, 20), 0),
        (dt.date(2025, 1, 21), 0),
    ]
    assert d.upcoming_total == 2
    assert (d.failed_payments, d.recovered_payments, d.recovery_rate) == (3, 1, Decimal("33.3"))
    assert d.revenue == {"EUR": Decimal("12.50"), "USD": Decimal("65.00")}
    assert d.cancellation_reasons == [("Too expensive", 2), ("No reason given", 1)]


def test_filtered_by_program(shop, world):
    coffee = dashboard_get(shop=shop, program_id=world["coffee"].pk)
    assert coffee.counts == {"ACTIVE": 2, "PAUSED": 1, "CANCELLED": 2}
    assert coffee.mrr == {"USD": Decimal("51.74")}  # 30.00 + 21.741
    assert (coffee.failed_payments, coffee.recovered_payments, coffee.recovery_rate) == (
        2,
        1,
        Decimal("50.0"),
    )
    assert coffee.revenue == {"USD": Decimal("30.00")}
    assert coffee.cancellation_reasons == [("No reason given", 1), ("Too expensive", 1)]
    assert coffee.upcoming_total == 2

    tea = dashboard_get(shop=shop, program_id=world["tea"].pk)
    assert tea.counts == {"ACTIVE": 2, "PAUSED": 0, "CANCELLED": 1}
    assert tea.mrr == {"USD": Decimal("27.50")}
    assert (tea.failed_payments, tea.recovered_payments, tea.recovery_rate) == (1, 0, Decimal("0.0"))
    assert tea.revenue == {"EUR": Decimal("12.50"), "USD": Decimal("35.00")}
    assert tea.upcoming_total == 0


def test_empty_shop_has_zeroes_and_no_rates(shop):
    d = dashboard_get(shop=shop)
    assert d.counts == {"ACTIVE": 0, "PAUSED": 0, "CANCELLED": 0}
    assert d.mrr == {} and d.revenue == {}
    assert d.recovery_rate is None
    assert all(w.churn_rate is None for w in d.weeks)


def test_page_shows_figures_and_inline_svg_charts(owner_client, shop, world):
    response = owner_client.get(reverse("console:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "79.24 USD" in html and "65.00 USD" in html and "12.50 EUR" in html
    assert "33.3%" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 6
    assert "<script" not in html.split('id="content-main"')[1]  # drawn on the server
    assert "http://" not in html.split('id="content-main"')[1].replace("http://www.w3.org/2000/svg", "")

    filtered = owner_client.get(reverse("console:dashboard"), {"program": world["tea"].pk})
    assert "27.50 USD" in filtered.content.decode()


def test_program_of_another_shop_or_garbage_is_a_400_naming_the_field(owner_client, other_shop):
    theirs = f.SubscriptionProgramFactory(shop=other_shop)
    for value in (theirs.pk, "abc"):
        response = owner_client.get(reverse("console:dashboard"), {"program": value})
        assert response.status_code == 400
        assert b"program" in response.content


def test_support_sees_the_dashboard(support_client):
    assert support_client.get(reverse("console:dashboard")).status_code == 200


def test_signed_out_visitor_is_sent_to_the_login(client):
    response = client.get(reverse("console:dashboard"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_superuser_picks_a_shop(client, shop, other_shop, world):
    admin = f.UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(reverse("console:dashboard"), {"shop": other_shop.pk})
    assert response.context["d"].counts["ACTIVE"] == 1
    response = client.get(reverse("console:dashboard"), {"shop": shop.pk})
    assert response.context["d"].counts["ACTIVE"] == 4
