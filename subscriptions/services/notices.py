"""Scheduled notices: the upcoming-order notice N days ahead and the auto-resume notice 7 days
ahead; and the auto-resume itself. Exactly once per (subscription, kind, date): a unique
constraint, so a tick run twice or concurrently sends nothing twice."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q

from subscriptions.actors import SYSTEM
from subscriptions.errors import DomainError
from subscriptions.events import emit_subscription_event
from subscriptions.models import Notice, Shop, SkippedDate, Subscription
from subscriptions.services.common import fmt, log_activity, retry_when_locked

AUTO_RESUME_NOTICE_DAYS = 7
Status = Subscription.Status


def due_upcoming_order_ids(shop: Shop, today: dt.date) -> list[int]:
    """ACTIVE subscriptions whose next order falls within the notice window and has no notice yet.
    The window starts today, so a notice missed by a stopped worker still goes out (late, not never).

    One range read of a covering index (`sub_notice_scan_idx`): a sent notice records its date on
    the subscription, so "not noticed yet" is a column test, and a changed date is due again. The
    few skipped dates of the window are then set aside; the Notice row's unique constraint stays
    the once-only guarantee (tests/benchmarks/bench_notice_scan measures this against a plain read)."""
    horizon = today + dt.timedelta(days=shop.upcoming_notice_days)
    candidates = list(
        Subscription.objects.filter(
            Q(upcoming_notice_date__isnull=True) | ~Q(upcoming_notice_date=F("next_billing_date")),
            shop=shop,
            status=Status.ACTIVE,
            next_billing_date__gt=today,
            next_billing_date__lte=horizon,
        )
        .order_by()
        .values_list("pk", flat=True)
    )
    skipped = dict(
        SkippedDate.objects.filter(shop=shop, unskipped_at__isnull=True, date__gt=today, date__lte=horizon)
        .order_by()
        .values_list("subscription_id", "date")
    )
    if not skipped:
        return candidates
    maybe = [pk for pk in candidates if pk in skipped]
    dates = dict(Subscription.objects.filter(pk__in=maybe).values_list("pk", "next_billing_date"))
    skipped_next = {pk for pk in maybe if skipped[pk] == dates.get(pk)}
    return [pk for pk in candidates if pk not in skipped_next]


def _send_once(subscription_id: int, kind: str, date_field: str, event_type: str, extra) -> bool:
    return retry_when_locked(_send_once_in_transaction, subscription_id, kind, date_field, event_type, extra)


def _send_once_in_transaction(
    subscription_id: int, kind: str, date_field: str, event_type: str, extra
) -> bool:
    with transaction.atomic():
        sub = Subscription.objects.select_related("shop", "customer", "plan__program").get(pk=subscription_id)
        date = getattr(sub, date_field)
        if date is None:
            return False
        try:
            with transaction.atomic():
                Notice.objects.create(shop=sub.shop, subscription=sub, kind=kind, date=date)
        except IntegrityError:
            sent = False  # already sent (another tick got here first)
        else:
            sent = True
        if kind == Notice.Kind.UPCOMING_ORDER and sub.upcoming_notice_date != date:
            Subscription.objects.filter(pk=sub.pk).update(upcoming_notice_date=date)
        if not sent:
            return False
        log_activity(
            shop=sub.shop, actor=SYSTEM, action=kind, subscription=sub, description=extra(sub, date)[0]
        )
        emit_subscription_event(event_type, sub, actor=SYSTEM, extra=extra(sub, date)[1])
        return True


def shop_send_notices(*, shop: Shop, today: dt.date | None = None) -> dict[str, int]:
    today = today or shop.local_today()
    sent = {"upcoming_order": 0, "auto_resume_upcoming": 0, "auto_resumed": 0}
    for sub_id in due_upcoming_order_ids(shop, today):
        sent["upcoming_order"] += _send_once(
            sub_id,
            Notice.Kind.UPCOMING_ORDER,
            "next_billing_date",
            "subscription.upcoming_order",
            lambda sub, date: (
                f"Upcoming order notice sent for {fmt(date)}",
                {"days_until_order": (date - today).days, "order_date": date.isoformat()},
            ),
        )
    resume_horizon = today + dt.timedelta(days=AUTO_RESUME_NOTICE_DAYS)
    resume_noticed = Notice.objects.filter(
        subscription=OuterRef("pk"), kind=Notice.Kind.AUTO_RESUME, date=OuterRef("auto_resume_date")
    )
    for sub_id in (
        Subscription.objects.filter(
            shop=shop, status=Status.PAUSED, auto_resume_date__gt=today, auto_resume_date__lte=resume_horizon
        )
        .filter(~Exists(resume_noticed))
        .values_list("pk", flat=True)
    ):
        sent["auto_resume_upcoming"] += _send_once(
            sub_id,
            Notice.Kind.AUTO_RESUME,
            "auto_resume_date",
            "subscription.auto_resume_upcoming",
            lambda sub, date: (
                f"Auto-resume notice sent: resumes on {fmt(date)}",
                {"auto_resume_date": date.isoformat(), "days_until_resume": (date - today).days},
            ),
        )
    from subscriptions.services.lifecycle import subscription_activate

    for sub in Subscription.objects.filter(shop=shop, status=Status.PAUSED, auto_resume_date__lte=today):
        try:
            retry_when_locked(subscription_activate, subscription=sub, actor=SYSTEM)
        except DomainError:
            continue  # resumed meanwhile (by a concurrent tick or by staff)
        sent["auto_resumed"] += 1
    return sent


def notices_tick(*, today_by_shop: dict[int, dt.date] | None = None) -> dict[int, dict[str, int]]:
    return {
        shop.pk: shop_send_notices(shop=shop, today=(today_by_shop or {}).get(shop.pk))
        for shop in Shop.objects.all()
    }
