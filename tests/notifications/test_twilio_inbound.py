"""SMS replies through Twilio (`POST /hooks/twilio/<token>/`, form-encoded): the X-Twilio-Signature
check refuses forged requests, and SKIP / DELAY [N] are handled exactly as for Postscript."""

import datetime as dt

import pytest

from integrations.models import InboundMessage, Integration
from notifications.twilio import signature
from subscriptions.models import ActivityLog, SkippedDate
from subscriptions.selectors import effective_next_order_date
from tests import factories as f

pytestmark = pytest.mark.django_db
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "auth_token_0123456789abcdef0123"
INBOUND = "twilio-inbound-token-abc"
PATH = f"/hooks/twilio/{INBOUND}/"
URL = "https://subs.example.com" + PATH


@pytest.fixture
def integration(sub):
    return Integration.objects.create(
        shop=sub.shop,
        partner="twilio",
        state=Integration.State.CONNECTED,
        credentials={"account_sid": SID, "auth_token": TOKEN},
        config={
            "inbound_token": INBOUND,
            "from_number": "+15005550006",
            "delay_days": 7,
            "quiet_hours": True,
        },
        events=["subscription.skipped"],
    )


def _message(body="SKIP", sid="SM" + "1" * 32, from_number="+15550104477") -> dict:
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": SID,
        "MessagingServiceSid": "",
        "From": from_number,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
    }


def _post(client, form, *, sign_with=TOKEN, signature_value=None):
    value = signature_value if signature_value is not None else signature(sign_with, URL, form)
    return client.post(PATH, data=form, HTTP_X_TWILIO_SIGNATURE=value)


def test_skip_by_sms_skips_the_next_order(client, integration, sub):
    next_order = effective_next_order_date(sub)

    response = _post(client, _message("Skip"))

    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    assert "<Response></Response>" in response.content.decode()
    assert SkippedDate.objects.filter(subscription=sub, date=next_order).exists()
    assert ActivityLog.objects.filter(subscription=sub, actor_type="integration").exists()
    assert InboundMessage.objects.get(partner="twilio").outcome.startswith("Skipped the next order")


def test_delay_14_moves_the_next_order_and_a_retry_changes_nothing(client, integration, sub):
    before = effective_next_order_date(sub)
    assert _post(client, _message("DELAY 14")).status_code == 200
    assert _post(client, _message("DELAY 14")).status_code == 200  # Twilio retried the same message
    sub.refresh_from_db()
    assert effective_next_order_date(sub) == before + dt.timedelta(days=14)


@pytest.mark.parametrize(
    "forgery",
    [
        {"signature_value": ""},
        {"signature_value": "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
        {"sign_with": "someone-elses-token"},
    ],
)
def test_a_forged_or_unsigned_request_is_403_and_changes_nothing(client, integration, sub, forgery):
    response = _post(client, _message(), **forgery)
    assert response.status_code == 403
    assert not SkippedDate.objects.exists() and not InboundMessage.objects.exists()


def test_a_signature_over_other_fields_is_refused(client, integration, sub):
    signed_for = signature(TOKEN, URL, _message("Hello"))
    response = _post(client, _message("SKIP"), signature_value=signed_for)
    assert response.status_code == 403
    assert not SkippedDate.objects.exists()


def test_an_unknown_token_or_disconnected_integration_is_403(client, integration, sub):
    Integration.objects.filter(pk=integration.pk).update(state=Integration.State.DISCONNECTED)
    assert _post(client, _message()).status_code == 403
    assert not SkippedDate.objects.exists()


def test_a_message_without_sid_is_400(client, integration, sub):
    form = _message()
    del form["MessageSid"]
    assert _post(client, form).status_code == 400
    assert not SkippedDate.objects.exists()


def test_another_shops_customer_is_not_acted_on(client, integration, sub):
    stranger = f.SubscriptionFactory(customer=f.CustomerFactory(phone="+1 555 010 9999"))
    response = _post(client, _message(from_number="+15550109999"))
    assert response.status_code == 200
    assert not SkippedDate.objects.filter(subscription=stranger).exists()
    assert "no customer has the phone number" in InboundMessage.objects.get().outcome


def test_only_post_is_accepted(client, integration):
    assert client.get(PATH).status_code == 405
