"""Native emails as a destination of the delivery engine (`kind="notifications"`).

The relay asks `targets` which notices an event makes: one delivery per notice (destination id =
the notice's key, e.g. `subscription.gifted` and `subscription.gifted:recipient`), only for shops
with native emails on, templates switched on, a recipient address, and - for optional notices -
a recipient who has not unsubscribed. `send` renders and hands the email to Django's backend; a
backend error (SMTP down, refused login...) is retried on the engine's schedule and every attempt
is in the delivery log like any webhook's.
"""

import smtplib
import time
from collections import defaultdict

from notifications.catalogue import EVENT_TYPES, NOTICES, notices_for_event
from notifications.models import EmailTemplate, NotificationSettings, Unsubscribe
from notifications.services import email_render, email_send, recipient_of, unsubscribe_link
from subscriptions.models import Shop
from webhooks.engine import Destination, SendResult, register_destination
from webhooks.models import Delivery, OutboxEvent

KIND = "notifications"


def _mask(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def _targets(events: list[OutboxEvent]) -> dict[object, list[str]]:
    interesting = [e for e in events if e.type in EVENT_TYPES]
    if not interesting:
        return {}
    shop_ids = set(
        NotificationSettings.objects.filter(
            email_enabled=True, shop_id__in={e.shop_id for e in interesting}
        ).values_list("shop_id", flat=True)
    )
    if not shop_ids:
        return {}
    off = set(EmailTemplate.objects.filter(shop_id__in=shop_ids, enabled=False).values_list("shop_id", "key"))
    wanted: dict[object, list[tuple[str, str]]] = defaultdict(list)
    addresses: set[tuple[int, str]] = set()
    for event in interesting:
        if event.shop_id not in shop_ids:
            continue
        data = (event.payload or {}).get("data") or {}
        for notice in notices_for_event(event.type):
            to = recipient_of(notice, data).lower()
            if not to or (event.shop_id, notice.key) in off:
                continue
            wanted[event.pk].append((notice.key, to))
            if notice.optional:
                addresses.add((event.shop_id, to))
    gone = set()
    if addresses:
        gone = set(
            Unsubscribe.objects.filter(
                shop_id__in={s for s, _ in addresses}, email__in={a for _, a in addresses}
            ).values_list("shop_id", "email")
        )
    by_id = {e.pk: e for e in interesting}
    result = {}
    for event_id, pairs in wanted.items():
        shop_id = by_id[event_id].shop_id
        keys = [key for key, to in pairs if not (NOTICES[key].optional and (shop_id, to) in gone)]
        if keys:
            result[event_id] = keys
    return result


def _send(delivery: Delivery, event: OutboxEvent) -> SendResult:
    notice = NOTICES.get(delivery.destination_id)
    if notice is None:
        return SendResult("fail", error=f"no notice {delivery.destination_id!r}")
    shop = Shop.objects.filter(pk=event.shop_id).first()
    settings_row = NotificationSettings.objects.filter(shop_id=event.shop_id).first()
    if shop is None or settings_row is None or not settings_row.email_enabled:
        return SendResult("fail", error="native emails are turned off for this shop")
    template = EmailTemplate.objects.filter(shop=shop, key=notice.key).first()
    if template is not None and not template.enabled:
        return SendResult("fail", error="this notice is turned off")
    data = (event.payload or {}).get("data") or {}
    to = recipient_of(notice, data)
    if notice.optional and Unsubscribe.objects.filter(shop=shop, email=to.lower()).exists():
        return SendResult("fail", error="the recipient unsubscribed from optional notices")
    rendered = email_render(shop=shop, notice=notice, template=template, data=data)
    link = unsubscribe_link(shop_id=shop.pk, email=to) if notice.optional else ""
    started = time.perf_counter()
    try:
        email_send(shop=shop, notice=notice, rendered=rendered, to=to, unsubscribe=link)
    except smtplib.SMTPRecipientsRefused as exc:
        return SendResult("fail", error=f"the mail server refused the recipient: {exc}"[:500])
    except (smtplib.SMTPException, OSError) as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return SendResult("retry", error=f"{exc.__class__.__name__}: {exc}"[:500], duration_ms=elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return SendResult("delivered", excerpt=f"Sent to {_mask(to)}: {rendered.subject}", duration_ms=elapsed)


register_destination(Destination(kind=KIND, targets=_targets, send=_send))
