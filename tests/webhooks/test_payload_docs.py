"""The webhook payload is documented in the OpenAPI document: schema plus one example per type."""

from drf_spectacular.generators import SchemaGenerator

from webhooks.registry import event_types


def test_schema_has_the_envelope_and_an_example_per_event_type():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    envelope = schema["components"]["schemas"]["WebhookEvent"]
    assert set(envelope["required"]) == {"id", "type", "version", "occurred_at", "shop", "actor", "data"}
    assert len(event_types()) == 21
    assert set(envelope["properties"]["type"]["enum"]) == set(event_types())
    examples = schema["components"]["examples"]
    for type_ in event_types():
        value = examples[f"WebhookEvent.{type_}"]["value"]
        assert value["type"] == type_
        assert value["data"]["first_name"] and value["data"]["account_page_link"]
    items = examples["WebhookEvent.subscription.skipped"]["value"]["data"]["subscription"]["items"]
    assert items[0]["sku"]
    assert any(
        tag["name"] == "Webhooks" and "webhook-signature" in tag["description"] for tag in schema["tags"]
    )
