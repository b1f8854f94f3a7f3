"""Gorgias OAuth, when a Gorgias app is configured: Connect asks for the domain and sends the
staff user to Gorgias; the callback trades the code for tokens (the exact token request), connects,
and creates the widget with the bearer token; an expiring token is refreshed before a call."""

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.test import Client

from integrations import gorgias
from integrations.models import Integration
from tests import factories as f

pytestmark = pytest.mark.django_db

SITE = "https://subs.example.com"
TOKEN_URL = "https://acme.gorgias.com/oauth/token"
API = "https://acme.gorgias.com/api"
CLIENT_BASIC = "Basic " + base64.b64encode(b"gorgias-client:gorgias-secret").decode()


@pytest.fixture(autouse=True)
def gorgias_app(settings):
    settings.SITE_URL = SITE
    settings.GORGIAS_CLIENT_ID = "gorgias-client"
    settings.GORGIAS_CLIENT_SECRET = "gorgias-secret"


@pytest.fixture
def staff():
    membership = f.StaffMembershipFactory(role="owner")
    client = Client()
    client.force_login(membership.user)
    client.shop = membership.shop
    return client


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def _form(call) -> dict:
    body = call.request.body.decode() if isinstance(call.request.body, bytes) else call.request.body
    return {k: v[0] for k, v in parse_qs(body).items()}


def _start(staff) -> dict:
    connect = staff.get("/admin/integrations/integration/gorgias/connect/")
    assert connect.status_code == 302 and connect["Location"] == "/hooks/gorgias/oauth/start"
    assert "Gorgias domain" in staff.get("/hooks/gorgias/oauth/start").content.decode()
    response = staff.get("/hooks/gorgias/oauth/start", {"domain": "acme.gorgias.com"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://acme.gorgias.com/oauth/authorize"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["response_type"] == "code" and query["client_id"] == "gorgias-client"
    assert query["redirect_uri"] == f"{SITE}/hooks/gorgias/oauth/callback"
    assert "offline" in query["scope"].split()
    return query


def test_sign_in_with_gorgias_connects_and_creates_the_widget(staff, wire):
    query = _start(staff)
    wire.post(TOKEN_URL, json={"access_token": "gat_1", "refresh_token": "grt_1", "expires_in": 86400})
    wire.get(f"{API}/account", json={"domain": "acme"})
    wire.post(f"{API}/integrations", json={"id": 77}, status=201)
    wire.post(f"{API}/widgets", json={"id": 8}, status=201)

    response = staff.get("/hooks/gorgias/oauth/callback", {"code": "the-code", "state": query["state"]})

    assert response.status_code == 302
    token_call = wire.calls[0]
    assert token_call.request.url == TOKEN_URL
    assert token_call.request.headers["Authorization"] == CLIENT_BASIC
    assert token_call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(token_call) == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": f"{SITE}/hooks/gorgias/oauth/callback",
    }
    for call in wire.calls[1:]:
        assert call.request.headers["Authorization"] == "Bearer gat_1"
    integration = Integration.objects.get(shop=staff.shop, partner="gorgias")
    assert integration.state == Integration.State.CONNECTED
    assert integration.credentials["access_token"] == "gat_1"
    assert integration.config["widget_id"] == 8


def test_a_forged_or_replayed_state_saves_nothing(staff, wire):
    query = _start(staff)
    forged = staff.get("/hooks/gorgias/oauth/callback", {"code": "c", "state": query["state"] + "x"})
    assert forged.status_code == 400
    wire.post(TOKEN_URL, json={"access_token": "gat_1", "expires_in": 86400})
    wire.get(f"{API}/account", json={"domain": "acme"})
    wire.post(f"{API}/integrations", json={"id": 77}, status=201)
    wire.post(f"{API}/widgets", json={"id": 8}, status=201)
    assert (
        staff.get("/hooks/gorgias/oauth/callback", {"code": "c", "state": query["state"]}).status_code == 302
    )
    replay = staff.get("/hooks/gorgias/oauth/callback", {"code": "c", "state": query["state"]})
    assert replay.status_code == 400


def test_a_bad_domain_is_asked_again(staff):
    response = staff.get("/hooks/gorgias/oauth/start", {"domain": "evil.example.com/x"})
    assert response.status_code == 400
    assert "Gorgias domain" in response.content.decode()


def test_gorgias_refusing_the_code_saves_nothing(staff, wire):
    query = _start(staff)
    wire.post(TOKEN_URL, json={"error": "invalid_grant"}, status=400)
    response = staff.get("/hooks/gorgias/oauth/callback", {"code": "old", "state": query["state"]})
    assert response.status_code == 502
    assert not Integration.objects.filter(shop=staff.shop, partner="gorgias").exists()


def test_an_expiring_token_is_refreshed_before_the_call_and_saved(wire):
    shop = f.ShopFactory()
    integration = Integration.objects.create(
        shop=shop,
        partner="gorgias",
        state=Integration.State.CONNECTED,
        config={"domain": "acme"},
        credentials={
            "access_token": "gat_old",
            "refresh_token": "grt_1",
            "expires_at": int(time.time()) + 30,
        },
    )
    wire.post(TOKEN_URL, json={"access_token": "gat_new", "expires_in": 86400})
    wire.post(f"{API}/integrations", json={"id": 77}, status=201)
    wire.post(f"{API}/widgets", json={"id": 8}, status=201)

    gorgias.gorgias_widget_setup(integration)

    assert _form(wire.calls[0]) == {"grant_type": "refresh_token", "refresh_token": "grt_1"}
    assert [c.request.headers["Authorization"] for c in wire.calls[1:]] == [
        "Bearer gat_new",
        "Bearer gat_new",
    ]
    saved = Integration.objects.get(pk=integration.pk).credentials
    assert saved["access_token"] == "gat_new" and saved["refresh_token"] == "grt_1"
