"""SMS replies from Postscript (`POST /hooks/postscript/<token>/`): the signature, the keywords
SKIP / DELAY / DELAY n, and everything that is logged and answered 200 without a change."""

import datetime as dt
import json

import pytest

from integrations.models import InboundMessage, Integration
from integrations.sms_replies import keyword_parse
from subscriptions.models import ActivityLog, SkippedDate, Subscription
from subscriptions.selectors import effective_next_order_date
from tests import factories as f
from webhooks.models import OutboxEvent

SIGNATURE = "ps_signature_token"
INBOUND = "inbound-token-abc123"
URL = f"/hooks/postscript/{INBOUND}/"
PHONE = "+15550104477"


@pytest.fixture
def sub(db):
    customer = f.CustomerFactory(phone="(555) 010-4477")
    return f.SubscriptionFactory(customer=customer)


@pytest.fixture
def integration(sub):
    return Integration.objects.create(
        shop=sub.shop,
        partner="postscript",
        state=Integration.State.CONNECTED,
        credentials={"private_key": "sk_live_x", "webhook_token": SIGNATURE},
        config={"inbound_token": INBOUND, "delay_days": 7, "quiet_hours": False},
        events=["subscription.skipped"],
    )


def _message(body="SKIP", message_id="msg_1", from_number=PHONE) -> dict:
    return {
        "webhook_id": "wh_1",
        "event": "shop.incoming_message",
        "event_time": "2025-03-04T15:00:00Z",
        "event_data": {
            "id": message_id,
            "subscriber_id": "sub_9",
            "from_number": from_number,
            "body": body,
            "created_at": "2025-03-04T15:00:00Z",
        },
    }


def _post(client, payload, signature=SIGNATURE, url=URL):
    headers = {"HTTP_POSTSCRIPT_SIGNATURE": signature} if signature is not None else {}
    data = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(url, data=data, content_type="application/json", **headers)


def _unchanged(sub):
    before = sub.next_billing_date
    sub.refresh_from_db()
    assert sub.next_billing_date == before
    assert not SkippedDate.objects.filter(subscription=sub).exists()
    assert not OutboxEvent.objects.exists()


def _outcome(message_id="msg_1") -> str:
    return InboundMessage.objects.get(partner="postscript", message_id=message_id).outcome


# ---------------------------------------------------------------- who may call


@pytest.mark.parametrize("signature", [None, "", "wrong", SIGNATURE + "x", SIGNATURE[:-1]])
def test_a_wrong_or_missing_signature_is_401_and_changes_nothing(client, integration, sub, signature):
    response = _post(client, _message(), signature=signature)

    assert response.status_code == 401
    _unchanged(sub)
    assert not InboundMessage.objects.exists()


def test_an_unknown_callback_token_is_401(client, integration, sub):
    assert _post(client, _message(), url="/hooks/postscript/not-ours/").status_code == 401
    _unchanged(sub)


def test_a_disconnected_integration_takes_no_replies(client, integration, sub):
    Integration.objects.filter(pk=integration.pk).update(state=Integration.State.DISCONNECTED)
    assert _post(client, _message()).status_code == 401
    _unchanged(sub)


@pytest.mark.parametrize("payload", ["{not json", b"\xff\xfe", "[]", '{"event": "shop.incoming_message"}'])
def test_a_malformed_body_is_400(client, integration, sub, payload):
    assert _post(client, payload).status_code == 400
    _unchanged(sub)
    assert not InboundMessage.objects.exists()


def test_a_message_without_id_is_400(client, integration, sub):
    payload = _message()
    del payload["event_data"]["id"]
    assert _post(client, payload).status_code == 400
    _unchanged(sub)


def test_only_post_is_accepted(client, integration):
    assert client.get(URL).status_code == 405


# ---------------------------------------------------------------- keywords


@pytest.mark.parametrize("body", ["SKIP", "skip", " Skip ", "s k i p", "SKIP.", "\tsKiP\n"])
def test_skip_skips_the_next_order(client, integration, sub, body):
    next_order = effective_next_order_date(sub)

    response = _post(client, _message(body))

    assert response.status_code == 200
    skip = SkippedDate.objects.get(subscription=sub, unskipped_at__isnull=True)
    assert skip.date == next_order
    event = OutboxEvent.objects.get()
    assert event.type == "subscription.skipped"
    assert event.actor == "integration:postscript"
    activity = ActivityLog.objects.get(subscription=sub, action="skipped")
    assert (activity.actor_type, activity.actor_name) == ("integration", "postscript")
    assert _outcome().startswith("Skipped")


@pytest.mark.parametrize(
    ("body", "days"),
    [("DELAY", 7), ("delay", 7), ("DELAY 14", 14), ("delay14", 14), (" Delay  60 ", 60), ("DELAY 1", 1)],
)
def test_delay_moves_the_next_order(client, integration, sub, body, days):
    before = sub.next_billing_date

    assert _post(client, _message(body)).status_code == 200

    sub.refresh_from_db()
    assert sub.next_billing_date == before + dt.timedelta(days=days)
    event = OutboxEvent.objects.get()
    assert (event.type, event.actor) == ("subscription.next_order_date_changed", "integration:postscript")
    assert _outcome().startswith(f"Delayed subscription {sub.pk} by {days} days")


def test_delay_uses_the_shops_default(client, integration, sub):
    Integration.objects.filter(pk=integration.pk).update(config={**integration.config, "delay_days": 10})
    before = sub.next_billing_date

    _post(client, _message("DELAY"))

    sub.refresh_from_db()
    assert sub.next_billing_date == before + dt.timedelta(days=10)


def test_delay_counts_from_the_order_really_next(client, integration, sub):
    """With the next date skipped, DELAY moves the order that will really be placed."""
    f.SkippedDateFactory(subscription=sub, date=sub.next_billing_date)
    really_next = effective_next_order_date(sub)

    _post(client, _message("DELAY"))

    sub.refresh_from_db()
    assert sub.next_billing_date == really_next + dt.timedelta(days=7)


@pytest.mark.parametrize("body", ["DELAY 99", "DELAY 61", "DELAY 0", "DELAY 365"])
def test_delay_out_of_range_is_refused_and_logged(client, integration, sub, body):
    response = _post(client, _message(body))

    assert response.status_code == 200
    _unchanged(sub)
    assert _outcome().startswith("Refused: DELAY takes 1 to 60 days")


@pytest.mark.parametrize("body", ["STOP", "SKIPPY", "SKIP 2", "please skip", "", "DELAY -3", "DELAY x"])
def test_an_unknown_keyword_is_logged_and_changes_nothing(client, integration, sub, body):
    response = _post(client, _message(body))

    assert response.status_code == 200
    _unchanged(sub)
    assert _outcome().startswith("Ignored")


def test_a_phone_of_no_customer_is_logged_and_changes_nothing(client, integration, sub):
    response = _post(client, _message(from_number="+15550109999"))

    assert response.status_code == 200
    _unchanged(sub)
    assert "no customer" in _outcome()


def test_a_customer_of_another_shop_is_never_touched(client, integration, sub):
    other = f.SubscriptionFactory(customer=f.CustomerFactory(phone=PHONE))
    sub.customer.phone = ""
    sub.customer.save()

    assert _post(client, _message()).status_code == 200

    assert not SkippedDate.objects.filter(subscription=other).exists()
    assert "no customer" in _outcome()


@pytest.mark.parametrize("status", [Subscription.Status.PAUSED, Subscription.Status.CANCELLED])
def test_a_customer_without_an_active_subscription_is_logged(client, integration, sub, status):
    Subscription.objects.filter(pk=sub.pk).update(status=status)

    response = _post(client, _message("SKIP"))

    assert response.status_code == 200
    assert not SkippedDate.objects.exists()
    assert not OutboxEvent.objects.exists()
    assert "no ACTIVE subscription" in _outcome()


def test_the_most_recent_active_subscription_is_the_one_changed(client, integration, sub):
    newer = f.SubscriptionFactory(customer=sub.customer)
    f.SubscriptionFactory(customer=sub.customer, status=Subscription.Status.PAUSED)

    _post(client, _message("SKIP"))

    assert list(SkippedDate.objects.values_list("subscription_id", flat=True)) == [newer.pk]


def test_a_refused_action_is_logged_and_answered_200(client, integration, sub, monkeypatch):
    from integrations import sms_replies
    from subscriptions.errors import DomainError

    def refuse(**kwargs):
        raise DomainError("invalid_status", "This subscription cannot skip an order now.")

    monkeypatch.setattr(sms_replies.services, "subscription_skip", refuse)

    response = _post(client, _message("SKIP"))

    assert response.status_code == 200
    _unchanged(sub)
    assert (
        _outcome() == f"Refused SKIP for subscription {sub.pk}: This subscription cannot skip an order now."
    )


def test_a_broken_default_delay_falls_back_to_seven_days(client, integration, sub):
    Integration.objects.filter(pk=integration.pk).update(config={**integration.config, "delay_days": "junk"})
    before = sub.next_billing_date

    _post(client, _message("DELAY"))

    sub.refresh_from_db()
    assert sub.next_billing_date == before + dt.timedelta(days=7)


def test_a_replayed_message_changes_nothing_more(client, integration, sub):
    assert _post(client, _message("DELAY 14")).status_code == 200
    sub.refresh_from_db()
    moved_to = sub.next_billing_date

    response = _post(client, _message("DELAY 14"))

    assert response.status_code == 200
    assert response.json()["message"].startswith("Already handled")
    sub.refresh_from_db()
    assert sub.next_billing_date == moved_to
    assert OutboxEvent.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_a_replayed_skip_does_not_skip_a_second_order(client, integration, sub):
    _post(client, _message("SKIP", message_id="msg_7"))
    _post(client, _message("SKIP", message_id="msg_7"))
    assert SkippedDate.objects.filter(subscription=sub).count() == 1
    # A new message is a new request: the next order after that is skipped too.
    _post(client, _message("SKIP", message_id="msg_8"))
    assert SkippedDate.objects.filter(subscription=sub).count() == 2


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("SKIP", ("SKIP", None)),
        ("delay", ("DELAY", None)),
        ("DELAY 14", ("DELAY", 14)),
        ("DELAY 99", ("DELAY", 99)),  # parsed; the range is the reply handler's rule
        ("SKIP 3", None),
        ("DELAYED", None),
    ],
)
def test_keyword_parse(text, parsed):
    assert keyword_parse(text) == parsed
