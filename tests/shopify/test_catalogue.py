"""Catalogue import: the paginated `products` query (cursor pagination: pageInfo hasNextPage /
endCursor) turned into products and variants with title, SKU, price, stock and status."""

from decimal import Decimal

import pytest

from shopify.catalogue import PRODUCTS_QUERY, catalogue_import
from shopify.client import ShopifyError
from shopify.models import CatalogueImport
from subscriptions.models import Product, Variant
from tests import factories as f
from tests.shopify.conftest import URL, answer, sent
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


def variant_node(number, *, sku, price="12.50", quantity=7, tracked=True, title="250 g"):
    return {
        "id": f"gid://shopify/ProductVariant/{number}",
        "legacyResourceId": str(number),
        "title": title,
        "sku": sku,
        "price": price,
        "inventoryQuantity": quantity,
        "inventoryItem": {
            "id": f"gid://shopify/InventoryItem/{number + 1000}",
            "legacyResourceId": str(number + 1000),
            "tracked": tracked,
        },
    }


def product_node(number, title, variants, status="ACTIVE"):
    return {
        "id": f"gid://shopify/Product/{number}",
        "legacyResourceId": str(number),
        "title": title,
        "description": f"About {title}",
        "status": status,
        "variants": {"nodes": variants},
    }


def page(nodes, *, next_cursor=None):
    return answer(
        {
            "products": {
                "pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor or "end"},
                "nodes": nodes,
            }
        }
    )


def test_the_import_walks_every_page(store, shop, mocked, sleeps):
    mocked.post(
        URL,
        json=page(
            [
                product_node(
                    1,
                    "House Blend",
                    [
                        variant_node(11, sku="HB-250"),
                        variant_node(12, sku="HB-1K", price="40.00", title="1 kg"),
                    ],
                ),
            ],
            next_cursor="eyJsYXN0X2lkIjoxfQ==",
        ),
    )
    mocked.post(
        URL,
        json=page(
            [product_node(2, "Old Roast", [variant_node(21, sku="OR-250", quantity=0)], status="ARCHIVED")]
        ),
    )

    run = catalogue_import(shop=shop)

    first, second = (sent(call) for call in mocked.calls)
    assert first == {"query": PRODUCTS_QUERY, "variables": {"first": 50, "after": None}}
    assert second["variables"] == {"first": 50, "after": "eyJsYXN0X2lkIjoxfQ=="}
    assert run.state == CatalogueImport.State.DONE
    assert (run.products, run.variants) == (2, 3)

    blend = Product.objects.get(shop=shop, external_id="1")
    assert blend.title == "House Blend" and blend.active
    one_kilo = Variant.objects.get(shop=shop, external_id="12")
    assert (one_kilo.title, one_kilo.sku, one_kilo.price, one_kilo.inventory) == (
        "1 kg",
        "HB-1K",
        Decimal("40.00"),
        7,
    )
    assert one_kilo.shopify_inventory_item_id == "1012"
    assert one_kilo.purchasable
    old = Variant.objects.get(shop=shop, external_id="21")
    assert old.archived and not old.purchasable
    assert not Product.objects.get(external_id="2").active


def test_importing_again_updates_instead_of_duplicating(store, shop, mocked, sleeps):
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    catalogue_import(shop=shop)
    mocked.reset()
    mocked.post(
        URL,
        json=page([product_node(1, "House Blend No. 2", [variant_node(11, sku="HB-250", price="13.00")])]),
    )
    catalogue_import(shop=shop)

    assert Product.objects.filter(shop=shop).count() == 1
    variant = Variant.objects.get(shop=shop)
    assert variant.price == Decimal("13.00")
    assert variant.product.title == "House Blend No. 2"


def test_a_console_variant_with_the_same_sku_is_linked_not_copied(store, shop, mocked, sleeps):
    mine = f.VariantFactory(shop=shop, sku="HB-250", price=Decimal("10.00"))
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    catalogue_import(shop=shop)

    mine.refresh_from_db()
    assert mine.external_id == "11"
    assert mine.price == Decimal("12.50")
    assert Variant.objects.filter(shop=shop).count() == 1


def test_untracked_stock_and_missing_skus(store, shop, mocked, sleeps):
    mocked.post(
        URL, json=page([product_node(1, "Mug", [variant_node(11, sku="", tracked=False, quantity=0)])])
    )
    catalogue_import(shop=shop)
    mug = Variant.objects.get(shop=shop)
    assert mug.inventory is None and mug.purchasable
    assert mug.sku == "SHOPIFY-11"


def test_a_variant_going_out_of_stock_tells_its_subscribers(store, shop, mocked, sleeps):
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    catalogue_import(shop=shop)
    variant = Variant.objects.get(shop=shop)
    sub = f.SubscriptionFactory(shop=shop, lines=[variant])
    mocked.reset()
    mocked.post(
        URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250", quantity=0)])])
    )
    catalogue_import(shop=shop)

    event = OutboxEvent.objects.get(type="subscription.product_unavailable")
    assert event.payload["data"]["subscription"]["id"] == sub.pk
    assert event.payload["data"]["unavailable_item"]["sku"] == "HB-250"
    assert event.actor == "integration:shopify"


def test_a_failed_import_says_so_and_keeps_what_it_got(store, shop, mocked, sleeps):
    mocked.post(
        URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])], next_cursor="c2")
    )
    mocked.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})

    with pytest.raises(ShopifyError):
        catalogue_import(shop=shop)
    run = CatalogueImport.objects.get()
    assert run.state == CatalogueImport.State.FAILED
    assert "access token" in run.error
    assert run.products == 1
    assert Product.objects.filter(shop=shop).count() == 1


def test_another_shops_catalogue_is_untouched(store, shop, mocked, sleeps):
    other = f.VariantFactory(sku="HB-250", external_id="11", price=Decimal("99.00"))
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    catalogue_import(shop=shop)
    other.refresh_from_db()
    assert other.price == Decimal("99.00")
    assert Variant.objects.get(shop=shop).external_id == "11"
