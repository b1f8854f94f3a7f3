"""The two Shopify Flow actions: `POST /hooks/shopify-flow/actions/skip-next-order` and
`.../pause-subscription`.

Flow signs the raw body with the app's client secret (`X-Shopify-Hmac-SHA256`, base64). Flow reads
only the status: 200 is success, 429 and 5xx are retried (with the same `action_run_id`), any other
4xx fails the action for good. So a refused action is a 4xx with a message for the workflow's log.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.adapters.shopify_flow import flow_action_run, integration_for_domain

SIGNATURE_HEADER = "X-Shopify-Hmac-SHA256"


def signature_valid(body: bytes, presented: str | None) -> bool:
    secret = settings.SHOPIFY_FLOW_APP_SECRET
    if not secret or not presented:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, presented.strip().encode())


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _date(value) -> dt.date | None:
    """An optional date property: empty means none; a date-time counts by its date."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _run(request: HttpRequest, action: str) -> JsonResponse:
    if not signature_valid(request.body, request.headers.get(SIGNATURE_HEADER)):
        return _error(401, "The request is not signed with this app's secret.")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "The body is not JSON.")
    if not isinstance(body, dict):
        return _error(400, "The body must be a JSON object.")
    properties = body.get("properties")
    properties = dict(properties) if isinstance(properties, dict) else {}
    action_run_id = str(body.get("action_run_id") or "").strip()
    if not action_run_id:
        return _error(400, "action_run_id is missing.")
    integration = integration_for_domain(str(body.get("shopify_domain") or ""))
    if integration is None:
        return _error(404, "No shop with a connected Shopify Flow integration has this domain.")
    if not str(properties.get("subscription_id") or "").strip():
        return _error(400, "The subscription_id property is missing: add the subscription ID variable.")
    properties["subscription_id"] = str(properties["subscription_id"]).strip()
    if action == "pause-subscription":
        try:
            properties["resume_date"] = _date(properties.get("resume_date"))
        except ValueError:
            return _error(400, "resume_date must be a date such as 2025-03-01.")
    status, message = flow_action_run(
        integration=integration, action=action, action_run_id=action_run_id[:200], properties=properties
    )
    if status == 200:
        return JsonResponse({"ok": True, "message": message})
    return _error(status, message)


@csrf_exempt
@require_POST
def skip_next_order(request: HttpRequest) -> JsonResponse:
    return _run(request, "skip-next-order")


@csrf_exempt
@require_POST
def pause_subscription(request: HttpRequest) -> JsonResponse:
    return _run(request, "pause-subscription")
