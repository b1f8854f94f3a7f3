"""Shopify's catalogue webhooks at /hooks/shopify/webhooks: signed with the app secret
(X-Shopify-Hmac-Sha256 = base64 HMAC-SHA256 of the raw body), topics products/update,
products/delete and inventory_levels/update in Shopify's documented payloads."""

import json
from decimal import Decimal

import pytest

from integrations.models import InboundMessage
from shopify.catalogue import INVENTORY_ITEM_QUERY
from subscriptions.models import Product, Variant
from tests import factories as f
from tests.shopify.conftest import APP_SECRET, DOMAIN, URL, answer, sent, sign
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
HOOK = "/hooks/shopify/webhooks"


def post(
    client,
    topic,
    payload,
    *,
    secret=APP_SECRET,
    signature=None,
    domain=DOMAIN,
    webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
):
    body = json.dumps(payload).encode()
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": domain,
        "HTTP_X_SHOPIFY_API_VERSION": "2025-01",
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
    }
    if signature is not False:
        headers["HTTP_X_SHOPIFY_HMAC_SHA256"] = signature or sign(body, secret)
    return client.post(HOOK, data=body, content_type="application/json", **headers)


@pytest.fixture
def blend(shop):
    product = f.ProductFactory(shop=shop, title="House Blend", external_id="788032119674292922")
    return f.VariantFactory(
        shop=shop,
        product=product,
        sku="HB-250",
        external_id="642667041472713922",
        shopify_inventory_item_id="808950810",
        price=Decimal("12.50"),
        inventory=10,
    )


def product_payload(status="active", quantity=10, price="13.00", variants=None):
    """Shopify's products/update body (REST product JSON), trimmed to what is read plus some noise."""
    return {
        "admin_graphql_api_id": "gid://shopify/Product/788032119674292922",
        "id": 788032119674292922,
        "title": "House Blend",
        "body_html": "<p>Our blend</p>",
        "vendor": "Demo",
        "status": status,
        "variants": variants
        if variants is not None
        else [
            {
                "admin_graphql_api_id": "gid://shopify/ProductVariant/642667041472713922",
                "id": 642667041472713922,
                "product_id": 788032119674292922,
                "title": "250 g",
                "price": price,
                "sku": "HB-250",
                "inventory_item_id": 808950810,
                "inventory_quantity": quantity,
                "inventory_management": "shopify",
            }
        ],
    }


# ---------------------------------------------------------------- signatures


def test_an_unsigned_webhook_is_refused(store, blend, client):
    response = post(client, "products/update", product_payload(price="1.00"), signature=False)
    assert response.status_code == 401
    blend.refresh_from_db()
    assert blend.price == Decimal("12.50")


def test_a_webhook_signed_with_another_secret_is_refused(store, blend, client):
    response = post(client, "products/update", product_payload(price="1.00"), secret="not-the-secret")
    assert response.status_code == 401
    blend.refresh_from_db()
    assert blend.price == Decimal("12.50")


def test_a_tampered_body_is_refused(store, blend, client):
    good = sign(json.dumps(product_payload(price="13.00")).encode())
    response = post(client, "products/update", product_payload(price="1.00"), signature=good)
    assert response.status_code == 401


def test_the_platform_app_secret_also_signs(store, blend, client, settings):
    settings.SHOPIFY_APP_SECRET = "platform-secret"
    response = post(client, "products/update", product_payload(), secret="platform-secret")
    assert response.status_code == 200


def test_an_unknown_topic_or_bad_json_is_a_clear_400(store, client):
    assert post(client, "orders/create", {"id": 1}).status_code == 400
    body = b"not json"
    response = client.post(
        HOOK,
        data=body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="products/update",
        HTTP_X_SHOPIFY_SHOP_DOMAIN=DOMAIN,
        HTTP_X_SHOPIFY_HMAC_SHA256=sign(body),
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


# ---------------------------------------------------------------- catalogue topics


def test_products_update_changes_price_and_stock(store, blend, client):
    response = post(client, "products/update", product_payload(quantity=4, price="13.00"))
    assert response.status_code == 200
    blend.refresh_from_db()
    assert (blend.price, blend.inventory, blend.archived) == (Decimal("13.00"), 4, False)
    assert Product.objects.filter(shop=blend.shop).count() == 1


def test_an_archived_product_tells_each_active_subscription(store, shop, blend, client):
    sub = f.SubscriptionFactory(shop=shop, lines=[blend])
    f.SubscriptionFactory(shop=shop, lines=[blend], status="CANCELLED")

    assert post(client, "products/update", product_payload(status="archived")).status_code == 200

    blend.refresh_from_db()
    assert blend.archived
    events = OutboxEvent.objects.filter(type="subscription.product_unavailable")
    assert [e.payload["data"]["subscription"]["id"] for e in events] == [sub.pk]


def test_a_variant_removed_in_shopify_is_archived(store, shop, blend, client):
    assert post(client, "products/update", product_payload(variants=[])).status_code == 200
    blend.refresh_from_db()
    assert blend.archived


def test_products_delete(store, shop, blend, client):
    sub = f.SubscriptionFactory(shop=shop, lines=[blend])
    response = post(client, "products/delete", {"id": 788032119674292922})
    assert response.status_code == 200
    blend.refresh_from_db()
    assert blend.archived and not blend.product.active
    assert (
        OutboxEvent.objects.get(type="subscription.product_unavailable").payload["data"]["subscription"]["id"]
        == sub.pk
    )


def test_inventory_levels_update_reads_the_total_stock(
    store, shop, blend, client, mocked, sleeps, django_capture_on_commit_callbacks
):
    sub = f.SubscriptionFactory(shop=shop, lines=[blend])
    mocked.post(
        URL,
        json=answer(
            {
                "inventoryItem": {
                    "id": "gid://shopify/InventoryItem/808950810",
                    "tracked": True,
                    "variant": {
                        "id": "gid://shopify/ProductVariant/642667041472713922",
                        "legacyResourceId": "642667041472713922",
                        "inventoryQuantity": 0,
                    },
                }
            }
        ),
    )
    payload = {
        "inventory_item_id": 808950810,
        "location_id": 905684977,
        "available": 0,
        "updated_at": "2025-01-10T12:00:00-05:00",
        "admin_graphql_api_id": "gid://shopify/InventoryLevel/905684977?inventory_item_id=808950810",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "inventory_levels/update", payload)
    assert response.status_code == 200

    assert sent(mocked.calls[0]) == {
        "query": INVENTORY_ITEM_QUERY,
        "variables": {"id": "gid://shopify/InventoryItem/808950810"},
    }
    blend.refresh_from_db()
    assert blend.inventory == 0 and not blend.purchasable
    event = OutboxEvent.objects.get(type="subscription.product_unavailable")
    assert event.payload["data"]["subscription"]["id"] == sub.pk


def test_a_redelivered_webhook_is_acted_on_once(store, shop, blend, client):
    assert post(client, "products/update", product_payload(price="13.00")).status_code == 200
    again = post(client, "products/update", product_payload(price="13.00"))
    assert again.status_code == 200
    assert again.json()["message"] == "Already done."
    assert InboundMessage.objects.filter(partner="shopify_webhook").count() == 1


def test_a_webhook_only_touches_the_shop_of_its_store(store, shop, blend, client):
    """Another shop holding the same Shopify ids (its own store) is not touched."""
    elsewhere = f.VariantFactory(
        sku="HB-250", external_id="642667041472713922", price=Decimal("50.00"), inventory=10
    )
    assert post(client, "products/update", product_payload(price="13.00", quantity=0)).status_code == 200
    elsewhere.refresh_from_db()
    assert (elsewhere.price, elsewhere.inventory) == (Decimal("50.00"), 10)
    assert Variant.objects.get(pk=blend.pk).price == Decimal("13.00")


def test_a_store_connected_to_no_shop_changes_nothing(store, blend, client):
    response = post(client, "products/update", product_payload(price="1.00"), domain="other.myshopify.com")
    # Signed by nobody we know (the other store has no connection here, no platform secret).
    assert response.status_code == 401
    blend.refresh_from_db()
    assert blend.price == Decimal("12.50")
