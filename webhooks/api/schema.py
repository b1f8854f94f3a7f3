"""The webhook payload in the OpenAPI document (drf-spectacular postprocessing hook).

OpenAPI 3.0 has no webhooks section (that is 3.1), so the payload is published as the
`WebhookEvent` component schema, with one named example per event type under
`components.examples` (built by the registered sample builder: no database access), and the
Webhooks tag says how deliveries are signed and retried.
"""

from webhooks.registry import event_types, sample_envelope

TAG_DESCRIPTION = (
    "Endpoints that receive the shop's events. Each event is POSTed as a `WebhookEvent` JSON body "
    "(see the schema and the `WebhookEvent.<type>` examples), signed per Standard Webhooks: headers "
    "`webhook-id` (stable across retries: deduplicate on it), `webhook-timestamp` and "
    "`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, two signatures for 24 hours "
    "after a secret rotation). Any 2xx is delivered; 3xx is a failure; 410 disables the endpoint; "
    "429/503 honour Retry-After; other 4xx are not retried; retries back off over about 3 days; "
    "10 s timeout. An endpoint failing for 5 days in a row is disabled."
)

_ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "product": {"type": "string"},
        "variant": {"type": "string"},
        "sku": {"type": "string"},
        "quantity": {"type": "integer"},
        "price": {"type": "string", "description": "Decimal as a string."},
        "currency": {"type": "string"},
    },
}
_CUSTOMER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "phone": {"type": "string"},
        "has_logged_in": {"type": "boolean"},
        "subscriber_since": {"type": "string", "format": "date-time", "nullable": True},
        "external_id": {"type": "string"},
    },
}
_SUBSCRIPTION = {
    "type": "object",
    "description": "Present on subscription.* events.",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "description": "ACTIVE, PAUSED or CANCELLED"},
        "program": {"type": "string"},
        "plan": {"type": "string"},
        "frequency_unit": {"type": "string"},
        "frequency_interval": {"type": "integer"},
        "next_billing_date": {"type": "string", "format": "date", "nullable": True},
        "auto_resume_date": {"type": "string", "format": "date", "nullable": True},
        "cancel_reason": {"type": "string"},
        "order_count": {"type": "integer"},
        "currency": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "external_id": {"type": "string"},
        "items": {"type": "array", "items": _ITEM},
    },
}


def envelope_schema(types: list[str]) -> dict:
    return {
        "type": "object",
        "description": "The body of every webhook: one envelope for every event type (version 1).",
        "required": ["id", "type", "version", "occurred_at", "shop", "actor", "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The event's id."},
            "type": {"type": "string", "enum": types},
            "version": {"type": "integer", "description": "Payload version (1)."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "shop": {"type": "string", "description": "The shop's domain."},
            "actor": {
                "type": "string",
                "description": "Who made the change: customer, admin, api, integration:<name> or system.",
            },
            "data": {
                "type": "object",
                "additionalProperties": True,
                "description": "Nested objects plus flat, template-friendly fields; some event types add "
                "their own fields (skipped_date, gift, payment_method, points, ...).",
                "properties": {
                    "customer": _CUSTOMER,
                    "subscription": _SUBSCRIPTION,
                    "previous": {
                        "type": "object",
                        "additionalProperties": True,
                        "description": "The values the change replaced.",
                    },
                    "first_name": {"type": "string"},
                    "account_page_link": {"type": "string", "format": "uri"},
                    "next_order_date": {"type": "string", "description": "Shop-formatted date."},
                    "new_delivery_date": {"type": "string", "description": "Shop-formatted date."},
                    "frequency_unit": {"type": "string"},
                    "frequency_interval": {"type": "integer"},
                },
            },
        },
    }


def add_webhook_payloads(result, generator, request, public):
    known = event_types()
    if not known:
        return result
    types = sorted(known)
    components = result.setdefault("components", {})
    schema = envelope_schema(types)
    schema["example"] = sample_envelope("subscription.skipped")
    components.setdefault("schemas", {})["WebhookEvent"] = schema
    examples = components.setdefault("examples", {})
    for type_ in types:
        event = known[type_]
        examples[f"WebhookEvent.{type_}"] = {
            "summary": f"{type_}" + (f" ({event.seed_name})" if event.seed_name else ""),
            "description": event.meaning,
            "value": sample_envelope(type_),
        }
    tags = result.setdefault("tags", [])
    for tag in tags:
        if tag.get("name") == "Webhooks":
            tag["description"] = TAG_DESCRIPTION
            break
    else:
        tags.append({"name": "Webhooks", "description": TAG_DESCRIPTION})
    return result
