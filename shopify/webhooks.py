"""Shopify's webhooks: `POST /hooks/shopify/webhooks`, one address for every topic.

Shopify names the topic in `X-Shopify-Topic` and the store in `X-Shopify-Shop-Domain`, and signs the
raw body: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app secret, body)). An unsigned or wrongly
signed request is refused (401) before anything is read. Shopify retries anything but a 2xx and may
deliver twice: each `X-Shopify-Webhook-Id` is acted on once.
"""

import base64
import hashlib
import hmac
import json

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.models import InboundMessage, Integration
from shopify import privacy
from shopify.catalogue import from_webhook, product_apply, product_remove
from shopify.connection import KEY, connection_for_domain, webhook_secrets
from subscriptions.errors import DomainError

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")


def signature_valid(body: bytes, presented: str | None, secrets: list[str]) -> bool:
    if not presented or not secrets:
        return False
    presented_bytes = presented.strip().encode()
    return any(
        hmac.compare_digest(
            base64.b64encode(hmac.new(s.encode(), body, hashlib.sha256).digest()), presented_bytes
        )
        for s in secrets
    )


def _products_update(shop, payload) -> str:
    product = product_apply(shop=shop, data=from_webhook(payload), description_known=False)
    return f"Product {product.pk} updated."


def _products_delete(shop, payload) -> str:
    product = product_remove(shop=shop, product_external_id=str(payload.get("id") or ""))
    return f"Product {product.pk} removed." if product else "Not a product of ours."


def _inventory_levels_update(shop, payload) -> str:
    from shopify.tasks import inventory_refresh_task

    item = str(payload.get("inventory_item_id") or "")
    if not item:
        raise DomainError("required", "inventory_item_id is missing.", field="inventory_item_id")
    transaction.on_commit(lambda: inventory_refresh_task.delay(shop.pk, item))
    return f"Stock of inventory item {item} will be refreshed."


HANDLERS = {
    "products/update": _products_update,
    "products/delete": _products_delete,
    "inventory_levels/update": _inventory_levels_update,
    "customers/data_request": lambda shop, p: privacy.customer_data_request(shop=shop, payload=p).outcome,
    "customers/redact": lambda shop, p: privacy.customer_redact(shop=shop, payload=p).outcome,
    "shop/redact": lambda shop, p: privacy.shop_redact(shop=shop, payload=p).outcome,
}


def _answer(status: int, message: str) -> JsonResponse:
    key = "message" if status < 400 else "error"
    return JsonResponse({key: message, **({"ok": True} if status < 400 else {})}, status=status)


def _integration(domain: str, topic: str) -> Integration | None:
    found = connection_for_domain(domain)
    if found is None and topic in PRIVACY_TOPICS:
        # A store that disconnected (or uninstalled) still has its customers' data here.
        found = (
            Integration.objects.select_related("shop").filter(partner=KEY, config__shop_domain=domain).first()
        )
    return found


@csrf_exempt
@require_POST
def receive(request: HttpRequest) -> JsonResponse:
    domain = (request.headers.get("X-Shopify-Shop-Domain") or "").strip().lower()
    topic = (request.headers.get("X-Shopify-Topic") or "").strip()
    integration = _integration(domain, topic)
    if not signature_valid(request.body, request.headers.get(SIGNATURE_HEADER), webhook_secrets(integration)):
        return _answer(401, "The request is not signed with this store's app secret.")
    handler = HANDLERS.get(topic)
    if handler is None:
        return _answer(400, f"Unknown topic '{topic}' (X-Shopify-Topic).")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _answer(400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return _answer(400, "The body must be a JSON object.")
    if integration is None:
        # Nothing is held for a store that was never connected: done, so Shopify stops retrying.
        return _answer(200, "No shop here is connected to this store; nothing to do.")
    webhook_id = (request.headers.get("X-Shopify-Webhook-Id") or "").strip()[:200]
    try:
        with transaction.atomic():
            if webhook_id:
                try:
                    with transaction.atomic():
                        InboundMessage.objects.create(
                            shop=integration.shop,
                            partner=f"{KEY}_webhook",
                            message_id=webhook_id,
                            outcome=topic,
                        )
                except IntegrityError:
                    return _answer(200, "Already done.")
            message = handler(integration.shop, payload)
    except DomainError as exc:
        return _answer(422, exc.message)
    return _answer(200, message)
