"""Attentive OAuth: `GET /hooks/attentive/oauth/start` sends a staff user to Attentive's install
page; Attentive sends them back to `GET /hooks/attentive/oauth/callback` with a `code` and our
`state`. Nothing is saved unless the state checks out and Attentive gives a token for the code."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from integrations.adapters import attentive
from integrations.partners import PartnerError
from integrations.services import integration_connect
from subscriptions.errors import DomainError
from subscriptions.models import Shop


def _failed(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(
        request, "integrations/oauth_failed.html", {"partner": "Attentive", "message": message}, status=status
    )


def _done_url() -> str:
    try:
        return reverse("admin:integrations_integration_changelist")
    except NoReverseMatch:
        return reverse("admin:index")


def _shop_of(request: HttpRequest) -> Shop | None:
    membership = getattr(request.user, "membership", None)
    if membership is not None:
        return membership.shop
    if request.user.is_superuser and str(request.GET.get("shop", "")).isdigit():
        return Shop.objects.filter(pk=int(request.GET["shop"])).first()
    return None


@require_GET
@staff_member_required
def oauth_start(request: HttpRequest) -> HttpResponse:
    shop = _shop_of(request)
    if shop is None:
        return _failed(request, "Choose a shop first (superusers: add ?shop=<id>).")
    return HttpResponseRedirect(
        attentive.authorize_url(shop=shop, user_id=request.user.pk, session=request.session)
    )


@require_GET
@staff_member_required
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        shop = attentive.state_check(
            request.GET.get("state", ""), user_id=request.user.pk, session=request.session
        )
    except attentive.BadState as exc:
        return _failed(request, str(exc))
    if request.GET.get("error"):
        return _failed(request, f"Attentive was not connected ({request.GET.get('error')}).")
    code = request.GET.get("code", "")
    if not code:
        return _failed(request, "Attentive did not send an authorization code; please start again.")
    try:
        token = attentive.code_exchange(code)
        integration_connect(shop=shop, partner_key=attentive.KEY, credentials={"access_token": token})
    except PartnerError as exc:
        return _failed(request, exc.message, status=502)
    except DomainError as exc:
        return _failed(request, exc.message)
    messages.success(request, "Attentive is connected: subscription events now reach your journeys.")
    return HttpResponseRedirect(_done_url())
