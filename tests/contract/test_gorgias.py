"""Gorgias wire format (reference/partner-contracts.md, Gorgias): the account check on connect,
the HTTP integration and widget that "Connect and create widget" makes (and replaces on a re-run),
the internal note on the ticket after a widget button, and each kind of answer Gorgias gives.
The widget's own buttons are then clicked the way Gorgias would (macros filled from the ticket and
the lookup the integration pulled) against our API."""

import base64
import datetime as dt
import json

import pytest
import responses
from rest_framework.test import APIClient

from integrations import gorgias
from integrations.models import ApiKey, Integration
from integrations.partners import PartnerError
from integrations.services import api_key_create, integration_connect
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, SkippedDate, Subscription
from tests import factories as f
from tests.contract.gorgias_macros import render, ticket_context

SITE = "https://subs.example.com"
API = "https://acme.gorgias.com/api"
ACCOUNT = f"{API}/account"
INTEGRATIONS = f"{API}/integrations"
WIDGETS = f"{API}/widgets"
AGENT = "agent@acme.example.com"
REST_KEY = "gorgias-rest-key-0123456789"
BASIC = "Basic " + base64.b64encode(f"{AGENT}:{REST_KEY}".encode()).decode()
GORGIAS_INTEGRATION_ID = 4242
WIDGET_ID = 99
TICKET = 555

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def shop():
    return f.ShopFactory(timezone="America/New_York")


def _connect(shop, wire, domain="acme") -> Integration:
    wire.get(ACCOUNT, json={"domain": "acme", "status": {"status": "active"}})
    return integration_connect(
        shop=shop,
        partner_key="gorgias",
        credentials={"api_key": REST_KEY},
        config={"domain": domain, "email": AGENT},
    )


@pytest.fixture
def connected(shop, wire) -> Integration:
    return _connect(shop, wire)


def _set_up(integration, wire, *, integration_id=GORGIAS_INTEGRATION_ID, widget_id=WIDGET_ID) -> str:
    wire.post(INTEGRATIONS, json={"id": integration_id, "type": "http"}, status=201)
    wire.post(WIDGETS, json={"id": widget_id, "type": "http"}, status=201)
    return gorgias.gorgias_widget_setup(integration)


def _body(call) -> dict:
    return json.loads(call.request.body)


def _calls(wire, method, url):
    return [c for c in wire.calls if c.request.method == method and c.request.url == url]


# ---------------------------------------------------------------- connect


def test_connect_checks_the_domain_and_credentials_with_basic_auth(shop, wire):
    integration = _connect(shop, wire, domain="https://Acme.gorgias.com/app/tickets")
    [call] = wire.calls
    assert call.request.method == "GET" and call.request.url == ACCOUNT
    assert call.request.headers["Authorization"] == BASIC
    assert call.request.headers["Accept"] == "application/json"
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED
    assert integration.config["domain"] == "acme"
    assert integration.credentials == {"api_key": REST_KEY}


@pytest.mark.parametrize(
    ("status", "headers", "field", "says"),
    [
        (401, {}, "api_key", "refused the credentials"),
        (403, {}, "api_key", "refused the credentials"),
        (429, {"Retry-after": "12"}, None, "try again in 12 seconds"),
        (503, {}, None, "had a problem"),
    ],
)
def test_connect_error_answers_say_what_is_wrong_and_save_nothing(shop, wire, status, headers, field, says):
    wire.get(ACCOUNT, json={"error": {"msg": "nope"}}, status=status, headers=headers)
    with pytest.raises(DomainError) as caught:
        integration_connect(
            shop=shop,
            partner_key="gorgias",
            credentials={"api_key": REST_KEY},
            config={"domain": "acme", "email": AGENT},
        )
    assert caught.value.field == field
    assert says in caught.value.message
    assert REST_KEY not in caught.value.message
    assert not Integration.objects.filter(shop=shop, partner="gorgias").exists()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"domain": "acme.zendesk.com/x", "email": AGENT}, "domain"),
        ({"domain": "acme", "email": "nobody"}, "email"),
    ],
)
def test_a_bad_domain_or_email_is_refused_before_any_call(shop, wire, config, field):
    with pytest.raises(DomainError) as caught:
        integration_connect(
            shop=shop, partner_key="gorgias", credentials={"api_key": REST_KEY}, config=config
        )
    assert caught.value.field == field
    assert len(wire.calls) == 0


# ---------------------------------------------------------------- connect and create widget

SEED_FIELDS = {
    "First name",
    "Last name",
    "Subscriber email",
    "Has logged in",
    "Subscriber since",
    "Status",
    "Subscription program",
    "Subscription plan",
    "Next billing date",
    "Subscription created",
    "Order count",
    "Product",
    "Variant",
    "Quantity",
    "SKU",
    "Amount",
}
SEED_BUTTONS = ["Skip next order", "Pause", "Set next billing date", "Unpause", "Cancel"]


def _titles(node) -> set[str]:
    found = (
        {node["title"]} if node.get("type") not in ("card", "list", "wrapper") and "title" in node else set()
    )
    for child in node.get("widgets", []):
        found |= _titles(child)
    return found


def _buttons(widget: dict) -> dict[str, dict]:
    card = widget["template"]["widgets"][0]["widgets"][0]
    return {b["label"]: b["action"] for b in card["meta"]["custom"]["buttons"]}


def test_setup_creates_a_key_the_http_integration_and_the_widget(connected, wire):
    summary = _set_up(connected, wire)
    assert "widget" in summary

    [made] = _calls(wire, "POST", INTEGRATIONS)
    body = _body(made)
    token = body["http"]["headers"]["x-smartrr-access-token"]
    assert made.request.headers["Authorization"] == BASIC
    assert made.request.headers["Content-Type"] == "application/json"
    assert body == {
        "name": "Smartrr",
        "type": "http",
        "description": body["description"],
        "http": {
            "url": f"{SITE}/vendor/order/formatted?filterLike[emailOrName]={{{{ticket.customer.email}}}}",
            "method": "GET",
            "request_content_type": "application/json",
            "response_content_type": "application/json",
            "headers": {"x-smartrr-access-token": token},
            "triggers": {"ticket_created": True, "ticket_updated": True, "ticket_message_created": True},
        },
    }
    # The dedicated key: a working key of this shop, made for Gorgias.
    key = ApiKey.objects.get(shop=connected.shop, application_nickname="Gorgias")
    assert token.startswith(key.prefix + ".")
    assert key.allows("subscriptions", write=True) and key.allows("customers", write=False)
    assert key.integration_name == "gorgias"

    [widget_call] = _calls(wire, "POST", WIDGETS)
    widget = _body(widget_call)
    assert widget["type"] == "http" and widget["context"] == "ticket"
    assert widget["integration_id"] == GORGIAS_INTEGRATION_ID
    assert widget["template"]["type"] == "wrapper"
    assert SEED_FIELDS <= _titles(widget["template"])
    buttons = _buttons(widget)
    assert list(buttons) == SEED_BUTTONS
    for action in buttons.values():
        assert action["method"] == "PUT"
        assert action["headers"] == [{"key": "x-smartrr-access-token", "value": token}]
        assert f"integrations.{GORGIAS_INTEGRATION_ID}.data[0].custRel.id" in action["url"]
        assert f"integrations.{GORGIAS_INTEGRATION_ID}.data[0].sts[0].id" in action["url"]
        assert action["url"].endswith("?ticketId={{ticket.id}}")

    connected.refresh_from_db()
    assert connected.config["gorgias_integration_id"] == GORGIAS_INTEGRATION_ID
    assert connected.config["widget_id"] == WIDGET_ID
    assert connected.config["api_key_id"] == key.pk


def test_running_it_again_updates_instead_of_duplicating_and_retires_the_old_key(connected, wire):
    _set_up(connected, wire)
    first_key = ApiKey.objects.get(pk=connected.config["api_key_id"])
    wire.reset()
    wire.put(f"{INTEGRATIONS}/{GORGIAS_INTEGRATION_ID}", json={"id": GORGIAS_INTEGRATION_ID})
    wire.put(f"{WIDGETS}/{WIDGET_ID}", json={"id": WIDGET_ID})

    gorgias.gorgias_widget_setup(connected)

    assert [(c.request.method, c.request.url) for c in wire.calls] == [
        ("PUT", f"{INTEGRATIONS}/{GORGIAS_INTEGRATION_ID}"),
        ("PUT", f"{WIDGETS}/{WIDGET_ID}"),
    ]
    new_token = _body(wire.calls[0])["http"]["headers"]["x-smartrr-access-token"]
    assert _buttons(_body(wire.calls[1]))["Pause"]["headers"][0]["value"] == new_token
    first_key.refresh_from_db()
    assert first_key.state == "revoked"
    usable = [
        k for k in ApiKey.objects.filter(shop=connected.shop, application_nickname="Gorgias") if k.is_usable
    ]
    assert len(usable) == 1 and new_token.startswith(usable[0].prefix)


def test_what_was_deleted_in_gorgias_is_made_again_and_the_orphan_widget_removed(connected, wire):
    _set_up(connected, wire)
    wire.reset()
    wire.put(f"{INTEGRATIONS}/{GORGIAS_INTEGRATION_ID}", json={"error": {"msg": "Not found"}}, status=404)
    wire.post(INTEGRATIONS, json={"id": 5000}, status=201)
    wire.delete(f"{WIDGETS}/{WIDGET_ID}", status=204)
    wire.post(WIDGETS, json={"id": 101}, status=201)

    gorgias.gorgias_widget_setup(connected)

    assert [(c.request.method, c.request.url) for c in wire.calls] == [
        ("PUT", f"{INTEGRATIONS}/{GORGIAS_INTEGRATION_ID}"),
        ("POST", INTEGRATIONS),
        ("DELETE", f"{WIDGETS}/{WIDGET_ID}"),
        ("POST", WIDGETS),
    ]
    assert _body(wire.calls[3])["integration_id"] == 5000
    connected.refresh_from_db()
    assert (connected.config["gorgias_integration_id"], connected.config["widget_id"]) == (5000, 101)


@pytest.mark.parametrize(
    ("status", "headers", "says"),
    [
        (401, {}, "refused the credentials"),
        (429, {"Retry-after": "20"}, "try again in 20 seconds"),
        (500, {}, "had a problem"),
        (400, {}, "did not accept creating the widget"),
    ],
)
def test_a_failed_setup_changes_nothing_of_ours(connected, wire, status, headers, says):
    wire.post(INTEGRATIONS, json={"id": GORGIAS_INTEGRATION_ID}, status=201)
    wire.post(WIDGETS, json={"error": {"msg": "bad template"}}, status=status, headers=headers)
    with pytest.raises(PartnerError) as caught:
        gorgias.gorgias_widget_setup(connected)
    assert says in caught.value.message
    assert not [
        k for k in ApiKey.objects.filter(shop=connected.shop, application_nickname="Gorgias") if k.is_usable
    ]
    connected.refresh_from_db()
    assert "widget_id" not in connected.config and "api_key_id" not in connected.config


# ---------------------------------------------------------------- the widget's buttons, clicked


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def subscriber(shop):
    customer = f.CustomerFactory(shop=shop, email="jane@example.com", first_name="Jane", last_name="Doe")
    f.SubscriptionFactory(customer=customer, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    recent = f.SubscriptionFactory(customer=customer)
    return customer, recent


class GorgiasSidebar:
    """Gorgias's side of one ticket: pulls the lookup with the integration's request, then clicks
    the widget's buttons with their macros filled in."""

    def __init__(self, wire, *, ticket_id: int, email: str, commits=None):
        self.commits = commits
        self.integration = _body(_calls(wire, "POST", INTEGRATIONS)[-1])
        self.buttons = _buttons(_body(_calls(wire, "POST", WIDGETS)[-1]))
        self.ticket_id, self.email = ticket_id, email
        self.data = None

    def _client(self, headers) -> APIClient:
        client = APIClient()
        client.credentials(**{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
        return client

    def pull(self) -> dict:
        http = self.integration["http"]
        url = render(http["url"], ticket_context(ticket_id=self.ticket_id, email=self.email))
        response = self._client(http["headers"]).get(url.removeprefix(SITE))
        assert response.status_code == 200, response.content
        self.data = response.json()
        return self.data

    def click(self, label: str, body: dict | None = None):
        action = self.buttons[label]
        context = ticket_context(
            ticket_id=self.ticket_id, email=self.email, integrations={GORGIAS_INTEGRATION_ID: self.data}
        )
        url = render(action["url"], context)
        headers = {h["key"]: h["value"] for h in action["headers"]}
        payload = body if body is not None else action.get("body", {}).get("application/json")
        with self.commits(execute=True):  # after the change commits, the note is queued
            return self._client(headers).put(url.removeprefix(SITE), payload or {}, format="json")


def _notes(wire):
    return [c for c in wire.calls if c.request.url == f"{API}/tickets/{TICKET}/messages"]


def test_skip_button_skips_the_most_recent_subscription_as_gorgias_and_notes_the_ticket(
    connected, wire, subscriber, commits
):
    customer, recent = subscriber
    _set_up(connected, wire)
    wire.post(f"{API}/tickets/{TICKET}/messages", json={"id": 1}, status=201)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    assert sidebar.pull()["data"][0]["sts"][0]["id"] == recent.pk
    skipped_date = recent.next_billing_date

    response = sidebar.click("Skip next order")

    assert response.status_code == 200, response.content
    assert SkippedDate.objects.filter(subscription=recent, date=skipped_date).exists()
    entry = ActivityLog.objects.get(subscription=recent, action="skipped")
    assert entry.actor == "integration:gorgias"
    [note] = _notes(wire)
    assert note.request.method == "POST"
    assert note.request.headers["Authorization"] == BASIC
    body = _body(note)
    assert body["channel"] == "internal-note" and body["source"] == {"type": "internal-note"}
    assert body["from_agent"] is True and body["via"] == "api"
    assert body["sender"] == {"email": AGENT}
    assert entry.description in body["body_text"] and f"#{recent.pk}" in body["body_text"]
    assert "<li>" in body["body_html"]


def test_every_predefined_button_works_on_the_most_recent_subscription(connected, wire, subscriber, commits):
    customer, recent = subscriber
    _set_up(connected, wire)
    wire.post(f"{API}/tickets/{TICKET}/messages", json={"id": 1}, status=201)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    new_date = (recent.shop.local_today() + dt.timedelta(days=40)).isoformat()

    assert sidebar.click("Pause").status_code == 200
    recent.refresh_from_db()
    assert recent.status == Subscription.Status.PAUSED
    assert sidebar.click("Unpause").status_code == 200
    recent.refresh_from_db()
    assert recent.status == Subscription.Status.ACTIVE
    assert sidebar.click("Set next billing date", {"nextBillingDate": new_date}).status_code == 200
    recent.refresh_from_db()
    assert recent.next_billing_date.isoformat() == new_date
    assert sidebar.click("Cancel").status_code == 200
    recent.refresh_from_db()
    assert recent.status == Subscription.Status.CANCELLED

    actions = list(ActivityLog.objects.filter(subscription=recent).values_list("actor_name", flat=True))
    assert actions and set(actions) == {"gorgias"}
    assert len(_notes(wire)) == 4


def test_a_button_left_unedited_gets_a_clear_400_and_changes_nothing(connected, wire, subscriber, commits):
    customer, recent = subscriber
    _set_up(connected, wire)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    before = recent.next_billing_date
    response = sidebar.click("Set next billing date")  # the "YYYY-MM-DD" placeholder as sent
    assert response.status_code == 400
    assert "nextBillingDate" in response.json()["detail"]
    recent.refresh_from_db()
    assert recent.next_billing_date == before
    assert _notes(wire) == []


@pytest.mark.parametrize(
    "first",
    [dict(status=503), dict(status=429, headers={"Retry-after": "3"}), dict(body=ConnectionError("reset"))],
)
def test_the_note_is_retried_while_gorgias_is_busy_or_down(
    connected, wire, subscriber, first, commits, monkeypatch
):
    from config.celery import app

    # Eager tasks re-run a retry at once when failures are not propagated (as a worker would, later).
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    customer, _ = subscriber
    _set_up(connected, wire)
    url = f"{API}/tickets/{TICKET}/messages"
    wire.post(url, **({"json": {"error": "busy"}} if "body" not in first else {}), **first)
    wire.post(url, json={"id": 1}, status=201)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    assert sidebar.click("Skip next order").status_code == 200
    assert len(_notes(wire)) == 2


def test_refused_credentials_on_the_note_flag_the_integration_but_the_change_stands(
    connected, wire, subscriber, commits
):
    customer, recent = subscriber
    _set_up(connected, wire)
    wire.post(f"{API}/tickets/{TICKET}/messages", json={"error": {"msg": "Unauthorized"}}, status=401)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    assert sidebar.click("Skip next order").status_code == 200
    assert len(_notes(wire)) == 1  # not retried: new credentials are needed
    connected.refresh_from_db()
    assert connected.state == Integration.State.NEEDS_ATTENTION
    assert SkippedDate.objects.filter(subscription=recent).exists()


def test_no_ticket_id_no_note_and_other_keys_never_note(connected, wire, subscriber, shop, commits):
    customer, recent = subscriber
    _set_up(connected, wire)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    data = sidebar.pull()["data"][0]
    path = f"/vendor/customer/{data['custRel']['id']}/purchase-state/{data['sts'][0]['id']}"
    token = sidebar.integration["http"]["headers"]["x-smartrr-access-token"]
    gorgias_client = APIClient()
    gorgias_client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=token)
    with commits(execute=True):
        assert gorgias_client.put(f"{path}/skip").status_code == 200
    _, raw = api_key_create(shop=shop, token_nickname="ops", permissions={"subscriptions": "write"})
    other = APIClient()
    other.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    with commits(execute=True):
        assert other.put(f"{path}/unskip?ticketId={TICKET}").status_code == 200
    assert _notes(wire) == []
    actors = dict(ActivityLog.objects.filter(subscription=recent).values_list("action", "actor_type"))
    assert actors == {"skipped": "integration", "unskipped": "api"}


def test_a_ticket_id_that_is_not_a_number_is_a_400_that_changes_nothing(connected, wire, subscriber, commits):
    customer, recent = subscriber
    _set_up(connected, wire)
    token = _body(_calls(wire, "POST", INTEGRATIONS)[0])["http"]["headers"]["x-smartrr-access-token"]
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=token)
    response = client.put(f"/vendor/customer/{customer.pk}/purchase-state/{recent.pk}/skip?ticketId=abc")
    assert response.status_code == 400 and "ticketId" in response.json()["detail"]
    assert not SkippedDate.objects.filter(subscription=recent).exists()


def test_another_shops_subscription_is_a_404_for_the_gorgias_key(connected, wire, subscriber, commits):
    _set_up(connected, wire)
    token = _body(_calls(wire, "POST", INTEGRATIONS)[0])["http"]["headers"]["x-smartrr-access-token"]
    elsewhere = f.SubscriptionFactory()
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=token)
    response = client.put(
        f"/vendor/customer/{elsewhere.customer_id}/purchase-state/{elsewhere.pk}/skip?ticketId={TICKET}"
    )
    assert response.status_code == 404
    assert _notes(wire) == []


def test_disconnecting_revokes_the_widgets_key(connected, wire, subscriber, commits):
    from integrations.services import integration_disconnect

    customer, _ = subscriber
    _set_up(connected, wire)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    integration_disconnect(integration=Integration.objects.get(pk=connected.pk))
    assert sidebar.click("Pause").status_code == 401
    assert not [
        k for k in ApiKey.objects.filter(shop=connected.shop, application_nickname="Gorgias") if k.is_usable
    ]


def test_events_of_a_gorgias_change_carry_the_gorgias_actor(connected, wire, subscriber, commits):
    from webhooks.models import OutboxEvent

    customer, recent = subscriber
    _set_up(connected, wire)
    wire.post(f"{API}/tickets/{TICKET}/messages", json={"id": 1}, status=201)
    sidebar = GorgiasSidebar(wire, ticket_id=TICKET, email=customer.email, commits=commits)
    sidebar.pull()
    sidebar.click("Pause")
    event = OutboxEvent.objects.get(type="subscription.paused")
    assert event.actor == "integration:gorgias"
    assert event.payload["actor"] == "integration:gorgias"


def test_the_retry_waits_as_long_as_gorgias_asks(connected, wire, subscriber, monkeypatch):
    from integrations.tasks import gorgias_ticket_note_task

    customer, recent = subscriber
    entry = f.ActivityLogFactory(shop=connected.shop, subscription=recent, description="Paused")
    wire.post(
        f"{API}/tickets/{TICKET}/messages",
        json={"error": "slow down"},
        status=429,
        headers={"Retry-after": "17"},
    )
    asked = {}

    def retry(*, exc, countdown):
        asked.update(countdown=countdown, exc=exc)
        return RuntimeError("retry scheduled")

    monkeypatch.setattr(gorgias_ticket_note_task, "retry", retry)
    with pytest.raises(RuntimeError):
        gorgias_ticket_note_task.run(connected.shop_id, TICKET, [entry.pk])
    assert asked["countdown"] == 17
