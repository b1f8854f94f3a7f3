"""Scheduled notices: the upcoming-order notice N days ahead and the auto-resume notice 7 days
ahead; and the auto-resume itself. Exactly once per (subscription, kind, date): a unique
constraint, so a tick run twice or concurrently sends nothing twice."""

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef

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
    few subscriptions whose next date is skipped come from a second, small read of the window's
    skips and are set aside. Plain SQL: this runs over a big shop's window every tick, and the ORM's
    statement building would cost more than the reads (tests/benchmarks/bench_notice_scan). The
    Notice row's unique constraint stays the once-only guarantee."""
    horizon = today + dt.timedelta(days=shop.upcoming_notice_days)
    subs, skips = Subscription._meta.db_table, SkippedDate._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {subs} WHERE shop_id = %s AND status = %s AND next_billing_date > %s "
            "AND next_billing_date <= %s "
            "AND (upcoming_notice_date IS NULL OR upcoming_notice_date <> next_billing_date)",
            [shop.pk, Status.ACTIVE, today, horizon],
        )
        candidates = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT k.subscription_id FROM {skips} k JOIN {subs} s ON s.id = k.subscription_id "
            "AND s.next_billing_date = k.date "
            "WHERE k.shop_id = %s AND k.date > %s AND k.date <= %s AND k.unskipped_at IS NULL",
            [shop.pk, today, horizon],
        )
        skipped_next = {row[0] for row in cursor.fetchall()}
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
