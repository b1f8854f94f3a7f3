"""Every inbound endpoint fed a corpus of bad input - malformed JSON, wrong types, huge bodies, bad
signatures or keys, replayed requests, SQL and HTML injection strings - answers 4xx with a message
that says what is wrong, changes nothing (row counts of every table) and logs no secret.

Endpoints: the vendor API (both surfaces), Postscript's SMS hook, Shopify Flow's actions and the
customer portal's forms. `InboundMessage` (the once-only log of partner deliveries) is the one table a
partner's refused request may add a row to: it is how a replay is recognised."""

import base64
import hashlib
import hmac
import json
import logging

import pytest
from django.apps import apps
from django.test import Client

from integrations.models import Integration
from integrations.services import api_key_create
from tests import factories as f

pytestmark = pytest.mark.django_db

ALL_WRITE = {r: "write" for r in ("subscriptions", "customers", "webhooks", "orders", "loyalty", "discounts")}
SQL = [
    "' OR '1'='1",
    "1; DROP TABLE subscriptions_subscription; --",
    "1 UNION SELECT password FROM auth_user",
]
HTML = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']
INJECTIONS = SQL + HTML
WRONG_TYPES = [None, True, [], {}, {"a": 1}, [1, 2], 1.5, -1, 10**30, "", "²", "\x00"]
HUGE = 3 * 1024 * 1024  # over the vendor limit (256 KiB) and Django's upload limit (2.5 MiB)
FLOW_SECRET = "flow-app-secret-not-for-logs"
PS_SIGNATURE = "ps-signature-not-for-logs"
PS_TOKEN = "inbound-token-abc123"


def _counts(*, ignore=("integrations.InboundMessage",)) -> dict:
    labels = ("subscriptions", "webhooks", "integrations", "loyalty", "portal")
    return {
        m._meta.label: m.objects.count()
        for label in labels
        for m in apps.get_app_config(label).get_models()
        if m._meta.label not in ignore
    }


def _message(response) -> str:
    """The human message of a 4xx: a problem document's detail, a hook's error, a portal message."""
    if response.get("Content-Type", "").startswith(("application/problem+json", "application/json")):
        body = response.json()
        return str(body.get("detail") or body.get("error") or "")
    return response.content.decode()


@pytest.fixture
def world(db, settings):
    settings.SHOPIFY_FLOW_APP_SECRET = FLOW_SECRET
    shop = f.ShopFactory(domain="proof-shop.example")
    customer = f.CustomerFactory(shop=shop, email="ada@example.com", phone="(555) 010-4477")
    sub = f.SubscriptionFactory(shop=shop, customer=customer)
    other_sub = f.SubscriptionFactory()  # another shop
    _, raw = api_key_create(shop=shop, token_nickname="proof", permissions=ALL_WRITE)
    Integration.objects.create(
        shop=shop,
        partner="postscript",
        state=Integration.State.CONNECTED,
        credentials={"private_key": "sk_live_secret", "webhook_token": PS_SIGNATURE},
        config={"inbound_token": PS_TOKEN, "delay_days": 7, "quiet_hours": False},
        events=[],
    )
    Integration.objects.create(
        shop=shop,
        partner="shopify_flow",
        state=Integration.State.CONNECTED,
        credentials={"shop_domain": "proof.myshopify.com", "access_token": "shpat_secret"},
        config={"shop_domain": "proof.myshopify.com"},
        events=[],
    )
    return {"shop": shop, "customer": customer, "sub": sub, "other": other_sub, "key": raw}


@pytest.fixture
def no_secret_logged(caplog, world):
    caplog.set_level(logging.DEBUG)
    yield
    text = caplog.text
    for secret in (world["key"], FLOW_SECRET, PS_SIGNATURE, PS_TOKEN, "sk_live_secret", "shpat_secret"):
        assert secret not in text, "a secret reached the logs"


def _bad(response, *words):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    message = _message(response)
    assert message.strip(), "a 4xx without a message"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not named in {message[:300]!r}"


# ---------------------------------------------------------------- vendor API


def _vendor(world, method, path, body=None, *, raw=None, key=None, **headers):
    client = Client()
    token = world["key"] if key is None else key
    if method == "get":
        return client.get(path, HTTP_X_SMARTRR_ACCESS_TOKEN=token, **headers)
    data = raw if raw is not None else json.dumps(body)
    return getattr(client, method)(
        path, data=data, content_type="application/json", HTTP_X_SMARTRR_ACCESS_TOKEN=token, **headers
    )


def _vendor_cases(world):
    sub, other = world["sub"], world["other"]
    line = sub.lines.first().pk
    actions = f"/vendor/v1/subscriptions/{sub.pk}/actions"
    smartrr = f"/vendor/customer/{sub.customer_id}/purchase-state/{sub.pk}"
    cases = []
    for value in WRONG_TYPES + INJECTIONS:
        cases.append(("post", f"{actions}/set-next-billing-date", {"date": value}, "date"))
        cases.append(("put", f"{smartrr}/next-billing-date", {"nextBillingDate": value}, "date"))
        cases.append(("post", f"{actions}/change-quantity", {"line": line, "quantity": value}, "quantity"))
        cases.append(("patch", f"/vendor/v1/customers/{sub.customer_id}", {"email": value}, "email"))
        cases.append(("post", f"{actions}/apply-discount", {"code": value}, "code"))
    for value in INJECTIONS:
        cases.append(("post", f"/vendor/v1/subscriptions/{value}/actions/skip", {}, ""))
        cases.append(("get", f"/vendor/order/formatted?filterLike[emailOrName]={'x' * 300}{value}", None, ""))
    cases.append(("post", f"/vendor/v1/subscriptions/{other.pk}/actions/skip", {}, ""))  # another shop
    return cases


def test_vendor_api_refuses_bad_values_by_field_and_changes_nothing(world, no_secret_logged):
    before = _counts()
    for method, path, body, field in _vendor_cases(world):
        response = _vendor(world, method, path, body)
        _bad(response, field) if field else _bad(response)
        assert response["Content-Type"] == "application/problem+json", path
    assert _counts() == before


@pytest.mark.parametrize(
    "raw",
    ["{", "not json", '{"date": }', "[1, 2", "\x00\x01", '{"date": "2030-01-01"', "null", "[]", '"text"'],
)
def test_vendor_api_refuses_malformed_json(world, no_secret_logged, raw):
    before = _counts()
    response = _vendor(
        world, "post", f"/vendor/v1/subscriptions/{world['sub'].pk}/actions/set-next-billing-date", raw=raw
    )
    _bad(response)
    assert _counts() == before


def test_vendor_api_refuses_a_huge_body_with_413(world, no_secret_logged):
    before = _counts()
    body = {"date": "2030-01-01", "padding": "x" * HUGE}
    response = _vendor(
        world, "post", f"/vendor/v1/subscriptions/{world['sub'].pk}/actions/set-next-billing-date", body
    )
    assert response.status_code == 413
    assert "larger than" in _message(response)
    assert _counts() == before


@pytest.mark.parametrize("key", ["", "wrong", "' OR '1'='1", "<script>", "x" * 5000])
def test_vendor_api_refuses_a_bad_key_and_logs_no_key(world, no_secret_logged, key, caplog):
    before = _counts()
    response = _vendor(world, "post", f"/vendor/v1/subscriptions/{world['sub'].pk}/actions/skip", {}, key=key)
    _bad(response)
    assert response.status_code == 401
    assert _counts() == before
    # A mistyped key is close to the real one: it must not be logged either.
    if len(key) > 4:
        assert key not in caplog.text


def test_vendor_api_replayed_request_answers_the_first_answer_and_changes_nothing_more(
    world, no_secret_logged
):
    path = f"/vendor/v1/subscriptions/{world['sub'].pk}/actions/skip"
    first = _vendor(world, "post", path, {}, HTTP_IDEMPOTENCY_KEY="replay-1")
    assert first.status_code == 200
    after_first = _counts(ignore=())
    replay = _vendor(world, "post", path, {}, HTTP_IDEMPOTENCY_KEY="replay-1")
    assert replay.status_code == 200 and replay.content == first.content
    assert _counts(ignore=()) == after_first
    # The same key with another body is refused, not replayed.
    other = _vendor(world, "post", path, {"date": "2031-01-01"}, HTTP_IDEMPOTENCY_KEY="replay-1")
    _bad(other)
    assert _counts(ignore=()) == after_first


# ---------------------------------------------------------------- Postscript


def _postscript(body, *, signature=PS_SIGNATURE, token=PS_TOKEN):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = {"HTTP_POSTSCRIPT_SIGNATURE": signature} if signature is not None else {}
    return Client().post(f"/hooks/postscript/{token}/", data=data, content_type="application/json", **headers)


def _sms(text="SKIP", message_id="m1"):
    return {
        "event": "shop.incoming_message",
        "event_data": {"id": message_id, "from_number": "+15550104477", "body": text},
    }


def test_postscript_hook_refuses_bad_input(world, no_secret_logged):
    before = _counts(ignore=())
    for signature in (None, "", "wrong", PS_SIGNATURE[:-1], *INJECTIONS):
        assert _postscript(_sms(), signature=signature).status_code == 401
    for token in ("not-ours", *SQL):
        assert _postscript(_sms(), token=token.replace("/", "")).status_code in (401, 404)
    for raw in ("{", "not json", "[]", "null", '"x"', '{"event_data": []}', b"\xff\xfe"):
        _bad(_postscript(raw))
    for value in WRONG_TYPES:
        response = _postscript({"event": "shop.incoming_message", "event_data": value})
        _bad(response, "event_data")
    _bad(_postscript({"event_data": {"id": "", "body": "SKIP"}}), "id")
    _bad(_postscript('{"event_data": {"id": "m1", "body": "' + "x" * HUGE + '"}}'))
    assert _counts(ignore=()) == before


def test_postscript_injection_text_is_an_unknown_keyword_and_changes_nothing(world, no_secret_logged):
    # Free text from a shopper's phone is valid input to Postscript's protocol: it is answered 200
    # (Postscript retries anything else for an hour) and logged as not understood.
    before = _counts()
    for number, text in enumerate(INJECTIONS):
        response = _postscript(_sms(text, message_id=f"inj-{number}"))
        assert response.status_code == 200
    assert _counts() == before


def test_postscript_replayed_message_changes_nothing_more(world, no_secret_logged):
    assert _postscript(_sms("SKIP", "once")).status_code == 200
    after = _counts(ignore=())
    assert _postscript(_sms("SKIP", "once")).status_code == 200
    assert _counts(ignore=()) == after


# ---------------------------------------------------------------- Shopify Flow

SKIP = "/hooks/shopify-flow/actions/skip-next-order"
PAUSE = "/hooks/shopify-flow/actions/pause-subscription"


def _flow(url, body, *, signature=None):
    raw = (
        body
        if isinstance(body, bytes)
        else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    )
    if signature is None:
        signature = base64.b64encode(hmac.new(FLOW_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
    return Client().post(url, data=raw, content_type="application/json", HTTP_X_SHOPIFY_HMAC_SHA256=signature)


def _run(properties, run_id="run-1"):
    return {"shopify_domain": "proof.myshopify.com", "action_run_id": run_id, "properties": properties}


def test_shopify_flow_refuses_bad_input(world, no_secret_logged):
    sub = world["sub"]
    before = _counts()
    for signature in ("", "wrong", base64.b64encode(b"x" * 32).decode(), *INJECTIONS):
        assert _flow(SKIP, _run({"subscription_id": str(sub.pk)}), signature=signature).status_code == 401
    for raw in ("{", "not json", "[]", "null", '"x"', b"\xff\xfe"):
        _bad(_flow(SKIP, raw))
    for number, value in enumerate(WRONG_TYPES + INJECTIONS):
        _bad(_flow(SKIP, _run({"subscription_id": value}, run_id=f"t-{number}")))
        if value not in (None, ""):  # an empty resume date means "no date": valid
            resume = {"subscription_id": str(sub.pk), "resume_date": value}
            _bad(_flow(PAUSE, _run(resume, run_id=f"p-{number}")), "resume_date")
    _bad(_flow(SKIP, _run({"subscription_id": str(world["other"].pk)}, run_id="other-shop")))
    _bad(_flow(SKIP, {**_run({"subscription_id": str(sub.pk)}), "padding": "x" * HUGE}))
    assert _counts() == before


def test_shopify_flow_replayed_run_changes_nothing_more(world, no_secret_logged):
    body = _run({"subscription_id": str(world["sub"].pk)}, run_id="replayed")
    assert _flow(SKIP, body).status_code == 200
    after = _counts(ignore=())
    assert _flow(SKIP, body).status_code == 200
    assert _counts(ignore=()) == after


# ---------------------------------------------------------------- portal forms


@pytest.fixture
def portal(world):
    client = Client(enforce_csrf_checks=False)
    session = client.session
    session["portal_customer_id"] = world["customer"].pk
    session["portal_shop_id"] = world["shop"].pk
    session.save()
    return client


def test_portal_forms_refuse_bad_input_with_4xx_and_change_nothing(world, portal, no_secret_logged):
    sub = world["sub"]
    url = f"/account/subscriptions/{sub.pk}"
    line = sub.lines.first().pk
    before = _counts()
    for value in ["", "x", "2001-01-01", "²", "9" * 40, *INJECTIONS]:
        for action, data in [
            ("change-date", {"date": value}),
            ("quantity", {"line": line, "quantity": value}),
            ("quantity", {"line": value, "quantity": 2}),
            ("swap", {"line": line, "variant": value}),
            ("pause", {"months": value}),
            ("discount", {"code": value}),
            ("gift", {"recipient_first_name": "A", "line1": "1 St", "city": "X", "country": value}),
        ]:
            response = portal.post(f"{url}/{action}/", data)
            assert response.status_code in (400, 409), (action, value, response.status_code)
            messages = [str(m) for m in response.context["messages"]]
            if action == "discount":  # shown next to its field, what was typed kept
                messages = [str(e) for e in response.context["discount_form"].errors.values()]
            assert messages and all(m.strip() for m in messages), (action, value)
        response = portal.post(f"{url}/cancel/", {"reason": value})
        assert response.status_code == 400
    assert _counts() == before


def test_portal_escapes_injection_strings_it_shows(world, portal):
    response = portal.post(f"/account/subscriptions/{world['sub'].pk}/discount/", {"code": HTML[0]})
    assert response.status_code in (400, 409)
    assert HTML[0].encode() not in response.content


def test_portal_refuses_forged_and_foreign_requests(world, portal):
    before = _counts()
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = portal.cookies
    assert strict.post(f"/account/subscriptions/{world['sub'].pk}/skip/").status_code == 403  # no CSRF token
    assert portal.post(f"/account/subscriptions/{world['other'].pk}/skip/").status_code == 404
    assert portal.post(f"/account/subscriptions/{world['sub'].pk}/no-such-action/").status_code == 404
    strict.get(f"/account/subscriptions/{world['sub'].pk}/")
    huge = {"csrfmiddlewaretoken": strict.cookies["csrftoken"].value, "padding": "x" * HUGE}
    assert strict.post(f"/account/subscriptions/{world['sub'].pk}/skip/", huge).status_code == 400
    assert _counts() == before


# ---------------------------------------------------------------- NUL characters (PostgreSQL refuses them)


def test_nul_characters_are_refused_everywhere_naming_the_field(world, portal, no_secret_logged):
    sub = world["sub"]
    before = _counts()
    actions = f"/vendor/v1/subscriptions/{sub.pk}/actions"
    response = _vendor(world, "post", f"{actions}/set-next-billing-date", {"date": "2030-01-01\x00"})
    _bad(response, "date", "NUL")
    assert response.json()["errors"][0]["field"] == "date"
    _bad(_vendor(world, "get", "/vendor/order/formatted?filterLike[emailOrName]=a%00b"), "filterLike", "NUL")
    flow = _flow(PAUSE, _run({"subscription_id": str(sub.pk), "resume_date": "\x00"}, run_id="nul"))
    _bad(flow, "properties.resume_date", "NUL")
    page = portal.post(
        f"/account/subscriptions/{sub.pk}/change-date/",
        "date=2030-01-01%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 400 and b"date: text may not contain NUL" in page.content
    # multipart forms reach the form's own validation, which refuses it too
    page = portal.post(f"/account/subscriptions/{sub.pk}/change-date/", {"date": "2030-01-01\x00"})
    assert page.status_code == 400
    assert _counts() == before
