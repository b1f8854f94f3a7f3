"""Native emails through the delivery engine: each notice is a `Delivery` (kind "notifications")
sent through Django's email backend, retried and logged like any other; notices that are off,
shops without native emails and unsubscribed customers get nothing."""

import datetime as dt
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from notifications.models import EmailTemplate, Unsubscribe
from notifications.services import email_notifications_set, unsubscribe_token
from portal.links import subscription_link_target
from subscriptions import services
from subscriptions.actors import SYSTEM, Actor
from subscriptions.services.notices import shop_send_notices
from tests import factories as f
from tests.notifications.payloads import realistic
from webhooks import engine
from webhooks.models import Delivery, DeliveryAttempt, OutboxEvent

pytestmark = pytest.mark.django_db
CUSTOMER = Actor.customer("jane@example.com")


def _deliver_all() -> dict:
    engine.relay(enqueue=False)
    ids = list(Delivery.objects.filter(destination_kind="notifications").values_list("pk", flat=True))
    return engine.deliver_many(ids)


def _emails() -> list[Delivery]:
    return list(Delivery.objects.filter(destination_kind="notifications"))


def _event(shop, type_, **overrides) -> OutboxEvent:
    data = {**realistic(type_), **overrides}
    data["customer"] = {**data["customer"], "email": "jane@example.com", "first_name": "Jane"}
    return f.OutboxEventFactory(shop=shop, type=type_, payload={"type": type_, "data": data})


def test_a_skip_sends_the_skipped_email_with_a_signed_deep_link(emails_on, sub):
    services.subscription_skip(subscription=sub, actor=CUSTOMER)

    assert set(_deliver_all().values()) == {Delivery.Status.SUCCEEDED}
    (message,) = mail.outbox
    assert message.to == ["jane@example.com"]
    assert message.from_email == "hello@demo-coffee.example"
    assert message.subject == f"Your {sub.next_billing_date.strftime('%B %-d, %Y')} order is skipped"
    assert message.body.startswith("Hi Jane,")
    link = next(word for word in message.body.split() if "/account/link/" in word)
    assert subscription_link_target(link) == (sub.customer_id, sub.pk)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<p>Hi Jane,</p>" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (delivery,) = _emails()
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.succeeded and attempt.response_excerpt.startswith("Sent to j***@example.com: Your ")


def test_the_upcoming_order_notice_of_the_daily_tick_is_emailed(emails_on, sub, shop):
    today = shop.local_today()
    sub.next_billing_date = today + dt.timedelta(days=shop.upcoming_notice_days)
    sub.save(update_fields=["next_billing_date"])

    assert shop_send_notices(shop=shop, today=today)["upcoming_order"] == 1
    _deliver_all()

    (message,) = mail.outbox
    assert message.subject.startswith("Your next Demo Coffee Co. order is on ")
    assert f"in {shop.upcoming_notice_days} days" in message.body


def test_a_gift_is_announced_to_the_subscriber_and_to_the_recipient(emails_on, sub):
    services.subscription_gift(
        subscription=sub,
        actor=CUSTOMER,
        recipient_first_name="Sam",
        recipient_email="sam@example.org",
        line1="1 Main St",
        city="Boston",
        country="US",
        message="Happy birthday",
    )
    _deliver_all()

    assert sorted(m.to[0] for m in mail.outbox) == ["jane@example.com", "sam@example.org"]
    to_sam = next(m for m in mail.outbox if m.to == ["sam@example.org"])
    assert to_sam.subject == "Jane sent you a gift from Demo Coffee Co."
    assert "Happy birthday" in to_sam.body and "/account/link/" not in to_sam.body


def test_a_notice_turned_off_is_not_sent(emails_on, sub, shop):
    EmailTemplate.objects.filter(shop=shop, key="subscription.skipped").update(enabled=False)

    services.subscription_skip(subscription=sub, actor=CUSTOMER)
    services.subscription_pause(subscription=sub, actor=CUSTOMER)
    _deliver_all()

    assert [d.event_type for d in _emails()] == ["subscription.paused"]
    assert [m.subject for m in mail.outbox] == ["Your Demo Coffee Co. subscription is paused"]


def test_a_shop_without_native_emails_sends_none(sub, shop):
    services.subscription_skip(subscription=sub, actor=CUSTOMER)
    email_notifications_set(shop=shop, enabled=False)
    services.subscription_pause(subscription=sub, actor=CUSTOMER)
    _deliver_all()

    assert _emails() == [] and mail.outbox == []


def test_an_unsubscribed_customer_gets_receipts_and_failed_payments_but_no_optional_notice(emails_on, shop):
    Unsubscribe.objects.create(shop=shop, email="jane@example.com")
    for type_ in (
        "subscription.skipped",
        "subscription.transaction_succeeded",
        "subscription.transaction_failed",
    ):
        _event(shop, type_)
    _deliver_all()

    assert sorted(d.event_type for d in _emails()) == [
        "subscription.transaction_failed",
        "subscription.transaction_succeeded",
    ]
    assert len(mail.outbox) == 2
    assert all("unsubscribe" not in m.body.lower() for m in mail.outbox)


def test_unsubscribing_after_the_delivery_was_made_still_stops_the_email(emails_on, shop):
    _event(shop, "subscription.paused")
    engine.relay(enqueue=False)
    Unsubscribe.objects.create(shop=shop, email="jane@example.com")
    _deliver_all()

    (delivery,) = _emails()
    assert delivery.status == Delivery.Status.FAILED and "unsubscribed" in delivery.last_error
    assert mail.outbox == []


def test_another_shops_unsubscribe_does_not_count(emails_on, shop):
    Unsubscribe.objects.create(shop=f.ShopFactory(), email="jane@example.com")
    _event(shop, "subscription.paused")
    _deliver_all()
    assert len(mail.outbox) == 1


# ---------------------------------------------------------------- the unsubscribe link


def test_the_link_asks_first_then_unsubscribes_on_post(client, emails_on, shop):
    url = f"/notifications/unsubscribe/{unsubscribe_token(shop_id=shop.pk, email='Jane@Example.com')}/"

    page = client.get(url)
    assert page.status_code == 200 and "jane@example.com" in page.content.decode()
    assert not Unsubscribe.objects.exists()

    done = client.post(url)  # also what a mail client's one-click unsubscribe sends
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert Unsubscribe.objects.get().email == "jane@example.com"
    assert client.post(url).status_code == 200 and Unsubscribe.objects.count() == 1


@pytest.mark.parametrize("token", ["nonsense", "eyJzIjoxLCJlIjoiamFuZUBleGFtcGxlLmNvbSJ9:forged"])
def test_a_forged_unsubscribe_link_is_404_and_changes_nothing(client, emails_on, token):
    assert client.post(f"/notifications/unsubscribe/{token}/").status_code == 404
    assert not Unsubscribe.objects.exists()


# ---------------------------------------------------------------- a mail server that fails


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"jane@example.com": (550, b"No such user")})


def test_a_failed_smtp_send_is_retried_and_logged(emails_on, shop, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.FailingBackend"
    _event(shop, "subscription.paused")

    _deliver_all()
    (delivery,) = _emails()
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None
    (attempt,) = delivery.attempts.all()
    assert not attempt.succeeded
    assert attempt.error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)  # the retry is due
    _deliver_all()

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert [a.succeeded for a in delivery.attempts.order_by("number")] == [False, True]
    assert len(mail.outbox) == 1


def test_a_refused_recipient_fails_without_retrying(emails_on, shop, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.RefusingBackend"
    _event(shop, "subscription.paused")
    _deliver_all()
    (delivery,) = _emails()
    assert delivery.status == Delivery.Status.FAILED and "refused the recipient" in delivery.last_error


def test_loyalty_points_earned_is_emailed(emails_on, customer):
    from loyalty.services import points_earn

    points_earn(customer=customer, points=40, reason="Order")
    _deliver_all()
    (message,) = mail.outbox
    assert message.subject == "You earned 40 points at Demo Coffee Co."
    assert "Your balance is now 40 points." in message.body


def test_system_events_of_another_shop_are_not_mixed_up(emails_on, shop):
    other = f.SubscriptionFactory(customer=f.CustomerFactory(email="other@example.com"))
    services.subscription_pause(subscription=other, actor=SYSTEM)
    _deliver_all()
    assert mail.outbox == [] and _emails() == []
