"""Gorgias: the helpdesk sidebar widget that shows a ticket's subscriber and lets agents skip,
pause, set the next billing date, unpause or cancel without leaving the ticket.

Gorgias pulls data from us (its HTTP integration calls our helpdesk lookup on every ticket
trigger) and its widget buttons call our vendor API; we call Gorgias only to set that up and to
add internal notes to tickets. So this partner receives no events from the delivery engine.

This module is the wire: each Gorgias call, its documented body, and how its answers are read
(reference/partner-contracts.md, Gorgias). `integrations.gorgias` does the set-up and the notes.
"""

import base64
import re
import time
from urllib.parse import quote

from django.conf import settings

from integrations.models import Integration
from integrations.partner_http import answer_json, json_body, ok, request
from integrations.partners import Partner, PartnerError, register_partner, retry_after
from webhooks.http import HttpResult

KEY = "gorgias"
NAME = "Smartrr"  # what the integration and the widget are called in Gorgias (the seed's wording)
HEADER = "x-smartrr-access-token"
LOOKUP_PATH = "/vendor/order/formatted?filterLike[emailOrName]={{ticket.customer.email}}"
TICKET_TRIGGERS = ("ticket_created", "ticket_updated", "ticket_message_created")
DOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class GorgiasUnavailable(PartnerError):
    """Worth trying again later: 429, 408, 5xx or no answer. `retry_in` is Gorgias's Retry-After."""

    def __init__(self, message: str, *, status: int | None = None, retry_in: float | None = None):
        super().__init__(message, status=status)
        self.retry_in = retry_in


# ---------------------------------------------------------------- credentials and addresses


def clean_domain(raw: str) -> str:
    """`acme`, `acme.gorgias.com` or `https://acme.gorgias.com/app` -> `acme` (the account's
    subdomain); anything else is refused, so we never send credentials to another host."""
    text = (raw or "").strip().lower()
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    if text.endswith(".gorgias.com"):
        text = text[: -len(".gorgias.com")]
    if not DOMAIN_RE.match(text):
        raise PartnerError("enter your Gorgias domain, e.g. “acme” for acme.gorgias.com", field="domain")
    return text


def api_base(integration: Integration) -> str:
    return f"https://{clean_domain(integration.config.get('domain', ''))}.gorgias.com/api"


REFRESH_MARGIN_SECONDS = 120


def _fresh_access_token(integration: Integration) -> str:
    """The OAuth access token, refreshed first when it expires within two minutes (they last 24 h;
    the `offline` scope gives the refresh token). The new tokens are saved, encrypted."""
    creds = integration.credentials
    expires_at = int(creds.get("expires_at") or 0)
    if creds.get("refresh_token") and expires_at and expires_at - REFRESH_MARGIN_SECONDS <= time.time():
        fresh = token_request(
            domain=integration.config.get("domain", ""),
            form=(("grant_type", "refresh_token"), ("refresh_token", creds["refresh_token"])),
        )
        fresh["refresh_token"] = fresh["refresh_token"] or creds["refresh_token"]
        integration.credentials = {**creds, **fresh}
        if integration.pk:
            Integration.objects.filter(pk=integration.pk).update(credentials=integration.credentials)
    return integration.credentials["access_token"]


def _headers(integration: Integration) -> dict[str, str]:
    """Basic auth with the agent's email and REST API key, or the OAuth access token."""
    creds = integration.credentials or {}
    if creds.get("access_token"):
        auth = f"Bearer {_fresh_access_token(integration)}"
    else:
        pair = f"{integration.config.get('email', '')}:{creds.get('api_key', '')}".encode()
        auth = "Basic " + base64.b64encode(pair).decode()
    return {"Authorization": auth, "Content-Type": "application/json", "Accept": "application/json"}


def _call(integration: Integration, method: str, path: str, body: dict | None = None) -> HttpResult:
    return request(
        method,
        api_base(integration) + path,
        headers=_headers(integration),
        body=json_body(body) if body is not None else None,
    )


def _answer(result: HttpResult, what: str) -> dict:
    """The JSON answer of a successful call; a clear PartnerError otherwise."""
    if ok(result):
        return answer_json(result) or {}
    code = result.status_code
    if code is None:
        raise GorgiasUnavailable(f"Gorgias could not be reached while {what} ({result.error})")
    if code in (401, 403):
        raise PartnerError(
            f"Gorgias refused the credentials while {what} (HTTP {code}); check the email and API key",
            field="api_key",
            status=code,
        )
    if code == 429:
        wait = retry_after(result.headers)
        seconds = int(wait.total_seconds()) if wait is not None else None
        later = f"in {seconds} seconds" if seconds is not None else "in a minute"
        raise GorgiasUnavailable(
            f"Gorgias is limiting requests while {what}; try again {later}",
            status=code,
            retry_in=seconds,
        )
    if code == 408 or code >= 500:
        raise GorgiasUnavailable(f"Gorgias had a problem while {what} (HTTP {code})", status=code)
    detail = (answer_json(result) or {}).get("error", {}) or {}
    message = detail.get("msg") if isinstance(detail, dict) else str(detail)
    raise PartnerError(
        f"Gorgias did not accept {what} (HTTP {code}{': ' + message if message else ''})", status=code
    )


# ---------------------------------------------------------------- calls


def account_get(integration: Integration) -> dict:
    """`GET /api/account`: the credentials' check on connect."""
    return _answer(_call(integration, "GET", "/account"), "checking the account")


def http_integration_body(*, lookup_url: str, access_token: str) -> dict:
    """The HTTP integration that pulls a ticket's subscriber from our helpdesk lookup on the three
    ticket triggers of the seed (ticket created, ticket updated, ticket message created)."""
    return {
        "name": NAME,
        "type": "http",
        "description": "Subscriptions of the ticket's customer (skip, pause, cancel from the widget).",
        "http": {
            "url": lookup_url,
            "method": "GET",
            "request_content_type": "application/json",
            "response_content_type": "application/json",
            "headers": {HEADER: access_token},
            "triggers": {trigger: True for trigger in TICKET_TRIGGERS},
        },
    }


def http_integration_create(integration: Integration, body: dict) -> dict:
    return _answer(_call(integration, "POST", "/integrations", body), "creating the HTTP integration")


def http_integration_update(integration: Integration, integration_id: int, body: dict) -> dict | None:
    """PUT the integration; None when Gorgias no longer has it (deleted by hand)."""
    result = _call(integration, "PUT", f"/integrations/{int(integration_id)}", body)
    if result.status_code == 404:
        return None
    return _answer(result, "updating the HTTP integration")


def widget_create(integration: Integration, body: dict) -> dict:
    return _answer(_call(integration, "POST", "/widgets", body), "creating the widget")


def widget_update(integration: Integration, widget_id: int, body: dict) -> dict | None:
    result = _call(integration, "PUT", f"/widgets/{int(widget_id)}", body)
    if result.status_code == 404:
        return None
    return _answer(result, "updating the widget")


def widget_delete(integration: Integration, widget_id: int) -> None:
    result = _call(integration, "DELETE", f"/widgets/{int(widget_id)}")
    if result.status_code != 404:
        _answer(result, "deleting the old widget")


def ticket_note_body(*, text: str, html: str, sender_email: str = "") -> dict:
    body = {
        "channel": "internal-note",
        "from_agent": True,
        "via": "api",
        "body_text": text,
        "body_html": html,
        "source": {"type": "internal-note"},
    }
    if sender_email:
        body["sender"] = {"email": sender_email}
    return body


def ticket_note_create(integration: Integration, ticket_id: int, body: dict) -> dict:
    """`POST /api/tickets/{id}/messages` with channel internal-note: agents see it, customers do not."""
    return _answer(
        _call(integration, "POST", f"/tickets/{int(ticket_id)}/messages", body), "adding the ticket note"
    )


# ---------------------------------------------------------------- the widget


def _field(path: str, title: str, type_: str = "text") -> dict:
    return {"path": path, "type": type_, "title": title}


def _button(*, label: str, action: str, integration_id: int, access_token: str, body: dict | None) -> dict:
    """A predefined widget button calling our vendor API on the customer's most recent subscription
    (`data[0].sts[0]`, as the seed's custom-button instructions do) and passing the ticket id, so
    the change is written back to the ticket as an internal note."""
    base = f"{{{{ticket.customer.integrations.{integration_id}.data[0]"
    url = (
        f"{settings.SITE_URL}/vendor/customer/{base}.custRel.id}}}}"
        f"/purchase-state/{base}.sts[0].id}}}}/{action}?ticketId={{{{ticket.id}}}}"
    )
    request_ = {
        "method": "PUT",
        "url": url,
        "headers": [{"key": HEADER, "value": access_token}],
        "params": [],
    }
    if body is not None:
        request_["body"] = {"contentType": "application/json", "application/json": body}
    return {"label": label, "action": request_}


BUTTONS = (
    ("Skip next order", "skip", None),
    ("Pause", "pause", None),
    ("Set next billing date", "next-billing-date", {"nextBillingDate": "YYYY-MM-DD"}),
    ("Unpause", "activate", None),
    ("Cancel", "cancel", {"reason": "Cancelled by support"}),
)


def widget_body(*, integration_id: int, access_token: str) -> dict:
    """Every field the seed lists: the subscriber (name, email, has logged in, subscriber since),
    then each subscription (status, program, plan, next billing date, created, order count) with its
    products (name, variant, quantity, SKU, amount); and the five predefined buttons."""
    product = {
        "path": "items",
        "type": "list",
        "widgets": [
            {
                "path": "",
                "type": "card",
                "title": "{{productName}}",
                "widgets": [
                    _field("productName", "Product"),
                    _field("variantName", "Variant"),
                    _field("quantity", "Quantity"),
                    _field("sku", "SKU"),
                    _field("amount", "Amount"),
                ],
            }
        ],
    }
    subscription = {
        "path": "sts",
        "type": "list",
        "widgets": [
            {
                "path": "",
                "type": "card",
                "title": "Subscription {{id}}",
                "widgets": [
                    _field("purchaseStateStatus", "Status"),
                    _field("program", "Subscription program"),
                    _field("plan", "Subscription plan"),
                    _field("nextBillingDate", "Next billing date", "date"),
                    _field("createdDate", "Subscription created", "date"),
                    _field("orderCount", "Order count"),
                    product,
                ],
            }
        ],
    }
    subscriber = {
        "path": "",
        "type": "card",
        "title": "{{custRel.firstName}} {{custRel.lastName}}",
        "meta": {
            "custom": {
                "buttons": [
                    _button(
                        label=label,
                        action=action,
                        integration_id=integration_id,
                        access_token=access_token,
                        body=body,
                    )
                    for label, action, body in BUTTONS
                ]
            }
        },
        "widgets": [
            _field("custRel.firstName", "First name"),
            _field("custRel.lastName", "Last name"),
            _field("custRel.email", "Subscriber email", "email"),
            _field("custRel.hasLoggedIn", "Has logged in", "boolean"),
            _field("custRel.subscriberSince", "Subscriber since", "date"),
            subscription,
        ],
    }
    return {
        "type": "http",
        "context": "ticket",
        "integration_id": integration_id,
        "order": 0,
        "template": {
            "type": "wrapper",
            "widgets": [{"path": "data", "type": "list", "widgets": [subscriber]}],
        },
    }


def lookup_url() -> str:
    return settings.SITE_URL + LOOKUP_PATH


# ---------------------------------------------------------------- OAuth (when the app is configured)


def oauth_configured() -> bool:
    return bool(settings.GORGIAS_CLIENT_ID and settings.GORGIAS_CLIENT_SECRET)


def authorize_url(*, domain: str, redirect_uri: str, state: str) -> str:
    query = "&".join(
        f"{name}={quote(value, safe='')}"
        for name, value in (
            ("response_type", "code"),
            ("client_id", settings.GORGIAS_CLIENT_ID),
            ("scope", settings.GORGIAS_SCOPES),
            ("redirect_uri", redirect_uri),
            ("state", state),
        )
    )
    return f"https://{clean_domain(domain)}.gorgias.com/oauth/authorize?{query}"


def token_request(*, domain: str, form: tuple[tuple[str, str], ...]) -> dict:
    """`POST /oauth/token` (form-encoded, the app's client id and secret in Basic auth) ->
    {access_token, refresh_token, expires_at}."""
    pair = f"{settings.GORGIAS_CLIENT_ID}:{settings.GORGIAS_CLIENT_SECRET}".encode()
    body = "&".join(f"{name}={quote(value, safe='')}" for name, value in form).encode()
    result = request(
        "POST",
        f"https://{clean_domain(domain)}.gorgias.com/oauth/token",
        headers={
            "Authorization": "Basic " + base64.b64encode(pair).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        body=body,
    )
    answer = _answer(result, "signing in")
    if not answer.get("access_token"):
        raise PartnerError("Gorgias did not give an access token for the sign-in")
    return {
        "access_token": str(answer["access_token"]),
        "refresh_token": str(answer.get("refresh_token") or ""),
        "expires_at": int(time.time()) + int(answer.get("expires_in") or 24 * 3600),
    }


def code_exchange(*, domain: str, code: str, redirect_uri: str) -> dict:
    return token_request(
        domain=domain,
        form=(("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)),
    )


# ---------------------------------------------------------------- the partner


def connect(integration: Integration) -> None:
    """Check the domain and credentials with `GET /api/account` before anything is saved."""
    integration.config["domain"] = clean_domain(integration.config.get("domain", ""))
    creds = integration.credentials or {}
    if not creds.get("access_token"):
        email = str(integration.config.get("email") or "").strip()
        if "@" not in email:
            raise PartnerError("enter the email of the Gorgias agent whose API key this is", field="email")
        integration.config["email"] = email
        if not str(creds.get("api_key") or "").strip():
            raise PartnerError("enter the Gorgias REST API key", field="api_key")
    account_get(integration)


def _no_events(integration, event, delivery) -> HttpResult:  # pragma: no cover - never routed
    return HttpResult(None, "", {}, 0, "Gorgias receives no events")


register_partner(
    Partner(
        key=KEY,
        name="Gorgias",
        events={},
        send=_no_events,
        connect=connect,
        credential_fields=("api_key",),
        config_fields=("domain", "email"),
        description=(
            "The subscriptions of a ticket's customer in the Gorgias sidebar, with buttons to skip "
            "the next order, pause, set the next billing date, unpause or cancel. Changes made from "
            "Gorgias are noted on the ticket."
        ),
        extra={
            "credential_labels": {"api_key": "REST API key"},
            "credential_help": {"api_key": "In Gorgias: Settings > REST API."},
            "config_labels": {"domain": "Gorgias domain", "email": "Agent email"},
            "config_help": {
                "domain": "“acme” for acme.gorgias.com.",
                "email": "The email of the Gorgias agent whose REST API key you use.",
            },
            "submit": "Connect and create widget",
            "setup": "integrations.gorgias.gorgias_widget_setup",
            "on_disconnect": "integrations.gorgias.gorgias_disconnected",
            # With a Gorgias app configured, Connect signs in with Gorgias (OAuth) instead.
            "oauth_start": lambda: "hooks:gorgias-oauth-start" if oauth_configured() else None,
            "alternative_credentials": ("access_token",),
        },
    )
)
