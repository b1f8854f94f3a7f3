"""Postscript SMS replies: `POST /hooks/postscript/<token>/`, one URL per integration (the token
is made when the integration connects and registered with Postscript as the callback URL).

Postscript puts a static token in `Postscript-Signature`; it is compared in constant time with
the one fetched on connect, before the body is even parsed. Postscript retries anything but a 2xx
every 5 minutes for an hour, so everything that is understood - acted on or not - is answered 200.
"""

import hmac
import json

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.adapters.postscript import INCOMING_MESSAGE, integration_for_token, postscript_reply_handle

SIGNATURE_HEADER = "Postscript-Signature"


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def signature_valid(expected: str, presented: str | None) -> bool:
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.strip().encode())


@csrf_exempt
@require_POST
def incoming_message(request: HttpRequest, token: str) -> JsonResponse:
    integration = integration_for_token(token)
    # An unknown URL and a wrong signature look the same from outside.
    expected = integration.credentials.get("webhook_token", "") if integration else ""
    if not signature_valid(expected, request.headers.get(SIGNATURE_HEADER)):
        return _error(401, "The request does not carry this integration's Postscript signature.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "The body is not JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("event_data"), dict):
        return _error(400, "The body must be a JSON object with event_data.")
    if body.get("event") not in (None, INCOMING_MESSAGE):
        return JsonResponse({"ok": True, "message": f"Ignored event {body.get('event')!r}."})
    data = body["event_data"]
    message_id = str(data.get("id") or "").strip()
    if not message_id:
        return _error(400, "event_data.id is missing.")
    outcome = postscript_reply_handle(
        integration=integration,
        message_id=message_id[:200],
        from_number=str(data.get("from_number") or ""),
        body=str(data.get("body") or ""),
    )
    return JsonResponse({"ok": True, "message": outcome})
