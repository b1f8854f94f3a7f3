"""The dashboard's figures, each one SQL aggregate over the shop's rows (optionally one program).

Definitions (dates are the shop's local dates; "the last 30 days" ends now):
- counts: subscriptions by status.
- MRR: the ACTIVE subscriptions' line totals (unit price × quantity) normalised to one month
  (a month is 365.25 / 12 days: weekly × 30.4375 / 7, daily × 30.4375, yearly ÷ 12, each ÷ the
  plan's interval count), per currency, rounded to cents at the end.
- weeks: for each of the last `WEEKS` weeks (Monday to Sunday, the current one last), the
  subscriptions created and cancelled in it, and the churn rate = cancelled ÷ live at the week's
  start (created before it and not cancelled before it).
- upcoming: ACTIVE subscriptions whose next billing date is in the 7 days from today, skipped
  dates left out, per day.
- failed payments: renewal orders made in the last 30 days with at least one failed or
  unanswered payment attempt; recovered = those of them paid since; recovery rate = recovered ÷ failed.
- revenue: the totals of orders paid in the last 30 days, per currency.
- cancellation reasons: cancelled subscriptions by reason (blank reads "No reason given").
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from subscriptions.models import (
    IntervalUnit,
    Order,
    PaymentAttempt,
    Plan,
    Shop,
    SkippedDate,
    Subscription,
)

WEEKS = 8
UPCOMING_DAYS = 7
RECENT_DAYS = 30
TOP_REASONS = 10
DAYS_PER_MONTH = Decimal("365.25") / Decimal(12)
CENT = Decimal("0.01")
NO_REASON = "No reason given"

Status = Subscription.Status


def monthly_factor(unit: str, count: int) -> Decimal:
    """How many times a month a plan of `count` `unit`s renews."""
    per_unit = {
        IntervalUnit.DAY: DAYS_PER_MONTH,
        IntervalUnit.WEEK: DAYS_PER_MONTH / Decimal(7),
        IntervalUnit.MONTH: Decimal(1),
        IntervalUnit.YEAR: Decimal(1) / Decimal(12),
    }[unit]
    return per_unit / Decimal(count)


def rate(part: int, whole: int) -> Decimal | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class Week:
    start: dt.date
    new: int
    churned: int
    live_at_start: int

    @property
    def churn_rate(self) -> Decimal | None:
        return rate(self.churned, self.live_at_start)


@dataclass
class Dashboard:
    today: dt.date
    counts: dict[str, int]
    mrr: dict[str, Decimal]
    weeks: list[Week]
    upcoming: list[tuple[dt.date, int]]
    failed_payments: int
    recovered_payments: int
    revenue: dict[str, Decimal]
    cancellation_reasons: list[tuple[str, int]]
    extra: dict = field(default_factory=dict)

    @property
    def upcoming_total(self) -> int:
        return sum(n for _, n in self.upcoming)

    @property
    def recovery_rate(self) -> Decimal | None:
        return rate(self.recovered_payments, self.failed_payments)


def _local_midnight(shop: Shop, date: dt.date) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(0), tzinfo=shop.tz)


def dashboard_get(*, shop: Shop, program_id: int | None = None, now: dt.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    today = now.astimezone(shop.tz).date()
    subs = Subscription.objects.filter(shop=shop)
    orders = Order.objects.filter(shop=shop)
    if program_id is not None:
        # By plan ids, so the (shop, status, plan, ...) index still serves every query.
        plan_ids = list(Plan.objects.filter(shop=shop, program_id=program_id).values_list("pk", flat=True))
        subs = subs.filter(plan_id__in=plan_ids)
        orders = orders.filter(subscription__plan_id__in=plan_ids)

    counts = {status: 0 for status in Status.values}
    counts.update(dict(subs.order_by().values_list("status").annotate(n=Count("id"))))

    # Driven from the ACTIVE rows of the (shop, status, plan, currency) index, each joined to its
    # lines through the (subscription, unit price, quantity) index: no table row is read.
    mrr: dict[str, Decimal] = {}
    per_plan = list(
        subs.filter(status=Status.ACTIVE)
        .order_by()
        .values_list("currency", "plan_id")
        .annotate(total=Sum(F("lines__unit_price") * F("lines__quantity")))
    )
    plans = Plan.objects.in_bulk({plan_id for _, plan_id, _ in per_plan})
    for currency, plan_id, total in per_plan:
        if total is None:
            continue
        plan = plans[plan_id]
        factor = monthly_factor(plan.interval_unit, plan.interval_count)
        mrr[currency] = mrr.get(currency, Decimal(0)) + Decimal(total) * factor
    mrr = {
        currency: amount.quantize(CENT, rounding=ROUND_HALF_UP) for currency, amount in sorted(mrr.items())
    }

    this_monday = today - dt.timedelta(days=today.weekday())
    starts = [this_monday - dt.timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]
    bounds = [_local_midnight(shop, d) for d in [*starts, starts[-1] + dt.timedelta(weeks=1)]]
    # Two range scans on the (shop, created_at) and (shop, cancelled_at) indexes, never the whole
    # table: the number live at the first week's start follows from the status counts.
    created = {"since": Count("id")}
    ended = {"before": Count("id", filter=Q(cancelled_at__lt=bounds[0]))}
    for i in range(WEEKS):
        created[f"new{i}"] = Count("id", filter=Q(created_at__gte=bounds[i], created_at__lt=bounds[i + 1]))
        ended[f"churned{i}"] = Count(
            "id", filter=Q(cancelled_at__gte=bounds[i], cancelled_at__lt=bounds[i + 1])
        )
    found = subs.filter(created_at__gte=bounds[0]).order_by().aggregate(**created)
    found.update(subs.filter(cancelled_at__isnull=False).order_by().aggregate(**ended))
    found["live_at_start"] = sum(counts.values()) - found["since"] - found["before"]
    weeks, live = [], found["live_at_start"]
    for i, start in enumerate(starts):
        week = Week(start=start, new=found[f"new{i}"], churned=found[f"churned{i}"], live_at_start=live)
        weeks.append(week)
        live += week.new - week.churned

    horizon = today + dt.timedelta(days=UPCOMING_DAYS - 1)
    skipped = SkippedDate.objects.filter(
        subscription=OuterRef("pk"), date=OuterRef("next_billing_date"), unskipped_at__isnull=True
    )
    per_day = dict(
        subs.filter(status=Status.ACTIVE, next_billing_date__gte=today, next_billing_date__lte=horizon)
        .filter(~Exists(skipped))
        .order_by()
        .values_list("next_billing_date")
        .annotate(n=Count("id"))
    )
    upcoming = [(d, per_day.get(d, 0)) for d in (today + dt.timedelta(days=i) for i in range(UPCOMING_DAYS))]

    since = now - dt.timedelta(days=RECENT_DAYS)
    failed_attempt = PaymentAttempt.objects.filter(
        order=OuterRef("pk"), status__in=(PaymentAttempt.Status.FAILED, PaymentAttempt.Status.ERROR)
    )
    payments = (
        orders.filter(created_at__gte=since)
        .filter(Exists(failed_attempt))
        .order_by()
        .aggregate(failed=Count("id"), recovered=Count("id", filter=Q(status=Order.Status.PAID)))
    )

    revenue = {
        currency: Decimal(total).quantize(CENT)
        for currency, total in orders.filter(status=Order.Status.PAID, paid_at__gte=since)
        .order_by()
        .values_list("currency")
        .annotate(total=Sum("total"))
        .order_by("currency")
    }

    reasons: dict[str, int] = {}
    for reason, n in (
        subs.filter(status=Status.CANCELLED).order_by().values_list("cancel_reason").annotate(n=Count("id"))
    ):
        label = reason.strip() or NO_REASON
        reasons[label] = reasons.get(label, 0) + n
    top = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]

    return Dashboard(
        today=today,
        counts=counts,
        mrr=mrr,
        weeks=weeks,
        upcoming=upcoming,
        failed_payments=payments["failed"],
        recovered_payments=payments["recovered"],
        revenue=revenue,
        cancellation_reasons=top,
    )
