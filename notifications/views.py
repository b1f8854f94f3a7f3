"""Public pages of native notifications: the unsubscribe link, and Twilio's inbound SMS hook."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.sms_replies import sms_reply_handle
from notifications.services import email_unsubscribe, unsubscribe_token_read
from notifications.twilio import integration_for_token, signature_valid
from subscriptions.models import Shop

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt  # mail clients' one-click unsubscribe (RFC 8058) posts without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link scanners must not unsubscribe anyone); POST unsubscribes."""
    found = unsubscribe_token_read(token)
    shop = Shop.objects.filter(pk=found[0]).first() if found else None
    if shop is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    context = {"shop": shop, "email": found[1], "done": False}
    if request.method == "POST":
        email_unsubscribe(shop_id=shop.pk, email=found[1])
        context["done"] = True
    return render(request, "notifications/unsubscribe.html", context)


def _twiml(status: int = 200) -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml", status=status)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest, token: str) -> HttpResponse:
    """An SMS reply. The signature covers the URL Twilio called (SITE_URL + path) and the form
    fields; a wrong or missing one is 403 and changes nothing. Everything understood is 200
    (Twilio does not retry), with an empty TwiML answer: confirmations go out as notices."""
    integration = integration_for_token(token)
    params = {name: request.POST.getlist(name) for name in request.POST}
    url = settings.SITE_URL + request.get_full_path()
    auth_token = integration.credentials.get("auth_token", "") if integration else ""
    if not signature_valid(auth_token, url, params, request.headers.get("X-Twilio-Signature")):
        return HttpResponse("The request does not carry a valid Twilio signature.", status=403)
    message_id = request.POST.get("MessageSid", "").strip()
    if not message_id:
        return HttpResponse("MessageSid is missing.", status=400)
    if request.POST.get("AccountSid") not in (None, integration.credentials.get("account_sid")):
        return HttpResponse("AccountSid is not this integration's account.", status=400)
    sms_reply_handle(
        integration=integration,
        message_id=message_id[:200],
        from_number=request.POST.get("From", ""),
        body=request.POST.get("Body", ""),
    )
    return _twiml()
