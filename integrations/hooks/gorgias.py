"""Gorgias OAuth (only when GORGIAS_CLIENT_ID / GORGIAS_CLIENT_SECRET are set).

`GET /hooks/gorgias/oauth/start` asks for the Gorgias domain, then sends the staff user to
`https://<domain>.gorgias.com/oauth/authorize` with a signed `state` (shop, user, domain, and a
nonce kept in the session). Gorgias sends them back to `GET /hooks/gorgias/oauth/callback` with a
`code`; nothing is saved unless the state checks out and Gorgias gives a token for the code. Then
the integration is connected and the widget set up, as with "Connect and create widget".
"""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from integrations.adapters import gorgias as wire
from integrations.gorgias import gorgias_widget_setup
from integrations.hooks.attentive import _done_url, _shop_of
from integrations.partners import PartnerError
from integrations.services import integration_connect
from subscriptions.errors import DomainError
from subscriptions.models import Shop

STATE_SALT = "integrations.gorgias.oauth-state"
STATE_MAX_AGE = dt.timedelta(minutes=10)
SESSION_NONCE = "gorgias_oauth_nonce"


def redirect_uri() -> str:
    return settings.SITE_URL + reverse("hooks:gorgias-oauth-callback")


def _failed(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(
        request, "integrations/oauth_failed.html", {"partner": "Gorgias", "message": message}, status=status
    )


@require_GET
@staff_member_required
def oauth_start(request: HttpRequest) -> HttpResponse:
    if not wire.oauth_configured():
        return _failed(request, "Signing in with Gorgias is not configured here; use the API key form.")
    shop = _shop_of(request)
    if shop is None:
        return _failed(request, "Choose a shop first (superusers: add ?shop=<id>).")
    raw = request.GET.get("domain")
    error = ""
    if raw is not None:
        try:
            domain = wire.clean_domain(raw)
        except PartnerError as exc:
            error = exc.message
        else:
            nonce = secrets.token_urlsafe(16)
            request.session[SESSION_NONCE] = nonce
            state = signing.dumps(
                {"shop": shop.pk, "user": request.user.pk, "nonce": nonce, "domain": domain}, salt=STATE_SALT
            )
            return HttpResponseRedirect(
                wire.authorize_url(domain=domain, redirect_uri=redirect_uri(), state=state)
            )
    context = {"title": "Connect Gorgias", "error": error, "domain": raw or "", "shop": shop}
    return render(request, "integrations/gorgias_domain.html", context, status=400 if error else 200)


def _state(request: HttpRequest) -> tuple[Shop, str]:
    try:
        payload = signing.loads(request.GET.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise PartnerError("The Gorgias sign-in took longer than 10 minutes; please start again.") from exc
    except signing.BadSignature as exc:
        raise PartnerError("The Gorgias sign-in could not be verified; please start again.") from exc
    expected = request.session.pop(SESSION_NONCE, None)
    if (
        not isinstance(payload, dict)
        or payload.get("user") != request.user.pk
        or not expected
        or not secrets.compare_digest(str(payload.get("nonce", "")), expected)
    ):
        raise PartnerError("This Gorgias sign-in was started elsewhere; please start again.")
    shop = Shop.objects.filter(pk=payload.get("shop")).first()
    if shop is None:
        raise PartnerError("The shop of this Gorgias sign-in no longer exists.")
    return shop, str(payload.get("domain", ""))


@require_GET
@staff_member_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        shop, domain = _state(request)
    except PartnerError as exc:
        return _failed(request, exc.message)
    if request.GET.get("error"):
        return _failed(request, f"Gorgias was not connected ({request.GET.get('error')}).")
    code = request.GET.get("code", "")
    if not code:
        return _failed(request, "Gorgias did not send an authorization code; please start again.")
    try:
        tokens = wire.code_exchange(domain=domain, code=code, redirect_uri=redirect_uri())
        integration = integration_connect(
            shop=shop, partner_key=wire.KEY, credentials=tokens, config={"domain": domain}
        )
    except PartnerError as exc:
        return _failed(request, exc.message, status=502)
    except DomainError as exc:
        return _failed(request, exc.message)
    messages.success(request, "Gorgias is connected.")
    try:
        messages.success(request, gorgias_widget_setup(integration))
    except PartnerError as exc:
        messages.error(
            request,
            f"Gorgias is connected, but the set-up did not finish: {exc.message}. Choose Update to retry.",
        )
    return HttpResponseRedirect(_done_url())
