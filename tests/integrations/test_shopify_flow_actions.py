"""Shopify Flow's actions calling us: signed with the app secret, once per action_run_id, and
answered the way Flow reads answers (200 done; other 4xx fail for good; 5xx retried)."""

import base64
import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from integrations.models import InboundMessage, Integration
from subscriptions.models import ActivityLog, SkippedDate, Subscription
from tests import factories as f
from webhooks.models import OutboxEvent

SECRET = "flow-app-secret"
DOMAIN = "demo-shop.myshopify.com"
SKIP = "/hooks/shopify-flow/actions/skip-next-order"
PAUSE = "/hooks/shopify-flow/actions/pause-subscription"


@pytest.fixture(autouse=True)
def _app_secret(settings):
    settings.SHOPIFY_FLOW_APP_SECRET = SECRET


@pytest.fixture
def sub(db):
    sub = f.SubscriptionFactory()
    Integration.objects.create(
        shop=sub.shop,
        partner="shopify_flow",
        state=Integration.State.CONNECTED,
        credentials={"shop_domain": DOMAIN, "access_token": "shpat_x"},
        config={"shop_domain": DOMAIN},
        events=[],
    )
    return sub


def _body(properties, run_id="run-1", handle="skip-next-order", domain=DOMAIN) -> bytes:
    return json.dumps(
        {
            "shop_id": 60000001,
            "shopify_domain": domain,
            "action_run_id": run_id,
            "action_definition_id": handle,
            "handle": handle,
            "properties": properties,
        }
    ).encode()


def _sign(raw: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def _post(client, url, raw: bytes, signature: str | None = None):
    headers = {} if signature == "" else {"HTTP_X_SHOPIFY_HMAC_SHA256": signature or _sign(raw)}
    return client.post(url, data=raw, content_type="application/json", **headers)


def _unchanged(sub):
    sub_now = Subscription.objects.get(pk=sub.pk)
    return (
        not SkippedDate.objects.filter(subscription=sub).exists()
        and sub_now.status == sub.status
        and not OutboxEvent.objects.exists()
        and not ActivityLog.objects.filter(subscription=sub, actor_type="integration").exists()
    )


def test_a_signed_skip_skips_the_next_order(client, sub):
    next_date = sub.next_billing_date
    response = _post(client, SKIP, _body({"subscription_id": str(sub.pk)}))

    assert response.status_code == 200, response.content
    assert SkippedDate.objects.get(subscription=sub).date == next_date
    entry = ActivityLog.objects.get(subscription=sub, action="skipped")
    assert (entry.actor_type, entry.actor_name) == ("integration", "shopify_flow")
    event = OutboxEvent.objects.get(type="subscription.skipped")
    assert event.actor == "integration:shopify_flow"


def test_the_subscription_may_be_named_by_its_shopify_id(client, sub):
    Subscription.objects.filter(pk=sub.pk).update(external_id="gid://shopify/SubscriptionContract/991")
    response = _post(client, SKIP, _body({"subscription_id": "gid://shopify/SubscriptionContract/991"}))
    assert response.status_code == 200
    assert SkippedDate.objects.filter(subscription=sub).exists()


@pytest.mark.parametrize("signature", ["", "d3Jvbmc=", "signed-with-another-secret"])
def test_a_wrong_or_missing_signature_is_401_and_changes_nothing(client, sub, signature):
    raw = _body({"subscription_id": str(sub.pk)})
    if signature == "signed-with-another-secret":
        signature = _sign(raw, "another-secret")
    response = _post(client, SKIP, raw, signature)
    assert response.status_code == 401
    assert _unchanged(sub)
    assert not InboundMessage.objects.exists()


def test_no_app_secret_configured_refuses_everything(client, sub, settings):
    settings.SHOPIFY_FLOW_APP_SECRET = ""
    raw = _body({"subscription_id": str(sub.pk)})
    assert _post(client, SKIP, raw, _sign(raw, "")).status_code == 401
    assert _unchanged(sub)


def test_a_signature_over_other_bytes_is_refused(client, sub):
    signed = _body({"subscription_id": str(sub.pk)})
    tampered = _body({"subscription_id": str(sub.pk)}, run_id="run-2")
    assert _post(client, SKIP, tampered, _sign(signed)).status_code == 401
    assert _unchanged(sub)


def test_malformed_json_is_400(client, sub):
    raw = b'{"action_run_id": "run-1", "properties": {'
    response = _post(client, SKIP, raw)
    assert response.status_code == 400
    assert _unchanged(sub)


def test_missing_subscription_id_is_400_with_a_message(client, sub):
    response = _post(client, SKIP, _body({}))
    assert response.status_code == 400
    assert "subscription_id" in response.json()["error"]
    assert _unchanged(sub)


def test_an_unknown_shop_is_404(client, sub):
    response = _post(client, SKIP, _body({"subscription_id": str(sub.pk)}, domain="other.myshopify.com"))
    assert response.status_code == 404
    assert _unchanged(sub)


def test_a_disconnected_integration_is_404(client, sub):
    Integration.objects.update(state=Integration.State.DISCONNECTED)
    assert _post(client, SKIP, _body({"subscription_id": str(sub.pk)})).status_code == 404
    assert _unchanged(sub)


@pytest.mark.parametrize("which", ["unknown", "other shop"])
def test_a_subscription_not_of_this_shop_is_404(client, sub, which):
    other = f.SubscriptionFactory()
    subscription_id = "999999" if which == "unknown" else str(other.pk)
    response = _post(client, SKIP, _body({"subscription_id": subscription_id}))
    assert response.status_code == 404
    assert _unchanged(sub)
    assert not SkippedDate.objects.filter(subscription=other).exists()


def test_a_replayed_action_run_changes_nothing_more(client, sub):
    raw = _body({"subscription_id": str(sub.pk)}, run_id="run-42")
    assert _post(client, SKIP, raw).status_code == 200
    assert _post(client, SKIP, raw).status_code == 200

    assert SkippedDate.objects.filter(subscription=sub).count() == 1
    assert OutboxEvent.objects.filter(type="subscription.skipped").count() == 1
    assert InboundMessage.objects.get().message_id == "run-42"

    # A new run (another workflow firing) does skip again.
    assert _post(client, SKIP, _body({"subscription_id": str(sub.pk)}, run_id="run-43")).status_code == 200
    assert SkippedDate.objects.filter(subscription=sub).count() == 2


def test_a_refused_action_is_422_with_the_message_and_changes_nothing(client, sub):
    Subscription.objects.filter(pk=sub.pk).update(status=Subscription.Status.CANCELLED)
    sub.refresh_from_db()

    response = _post(client, SKIP, _body({"subscription_id": str(sub.pk)}))

    assert response.status_code == 422
    assert "CANCELLED" in response.json()["error"]
    assert _unchanged(sub)
    # Flow does not retry a 4xx; if the same run came again it gets the same answer.
    assert _post(client, SKIP, _body({"subscription_id": str(sub.pk)})).status_code == 422


def test_pause_without_a_resume_date(client, sub):
    response = _post(client, PAUSE, _body({"subscription_id": str(sub.pk)}, handle="pause-subscription"))

    assert response.status_code == 200, response.content
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.PAUSED
    assert sub.auto_resume_date is None
    entry = ActivityLog.objects.get(subscription=sub, action="paused")
    assert (entry.actor_type, entry.actor_name) == ("integration", "shopify_flow")


def test_pause_until_a_resume_date(client, sub):
    resume = timezone.localdate() + dt.timedelta(days=30)
    raw = _body(
        {"subscription_id": str(sub.pk), "resume_date": resume.isoformat()}, handle="pause-subscription"
    )

    assert _post(client, PAUSE, raw).status_code == 200
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.PAUSED
    assert sub.auto_resume_date == resume


def test_pause_with_an_empty_resume_date_pauses_indefinitely(client, sub):
    raw = _body({"subscription_id": str(sub.pk), "resume_date": ""}, handle="pause-subscription")
    assert _post(client, PAUSE, raw).status_code == 200
    sub.refresh_from_db()
    assert (sub.status, sub.auto_resume_date) == (Subscription.Status.PAUSED, None)


@pytest.mark.parametrize("resume_date, status", [("next tuesday", 400), ("2001-01-01", 422)])
def test_pause_with_a_bad_resume_date_changes_nothing(client, sub, resume_date, status):
    raw = _body({"subscription_id": str(sub.pk), "resume_date": resume_date}, handle="pause-subscription")
    assert _post(client, PAUSE, raw).status_code == status
    assert _unchanged(sub)


def test_only_post_is_accepted(client, sub):
    assert client.get(SKIP).status_code == 405
