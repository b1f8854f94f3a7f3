"""Shopify catalogue -> our products and variants.

Both the import (paginated `products` query) and the webhooks (`products/update`,
`products/delete`, `inventory_levels/update`) are turned into one shape, `ProductData`, and applied
by `product_apply`. A variant is found by its Shopify id, else (a console variant made before the
store was connected) by its SKU, else created. Changes to an existing variant go through
`subscriptions.services.catalogue.variant_update`, which announces `subscription.product_unavailable`
to each active subscription when a variant stops being purchasable (archived, draft, deleted,
sold out).
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from shopify.client import ShopifyClient, gid, legacy_id
from shopify.connection import ACTOR, shop_client
from shopify.models import CatalogueImport
from subscriptions.models import Product, Shop, Variant
from subscriptions.services.catalogue import product_update, variant_update

PAGE_SIZE = 50
VARIANTS_PER_PRODUCT = 100

PRODUCTS_QUERY = """
query Products($first: Int!, $after: String) {
  products(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      legacyResourceId
      title
      description
      status
      variants(first: 100) {
        nodes {
          id
          legacyResourceId
          title
          sku
          price
          inventoryQuantity
          inventoryItem { id legacyResourceId tracked }
        }
      }
    }
  }
}
""".strip()

INVENTORY_ITEM_QUERY = """
query InventoryItem($id: ID!) {
  inventoryItem(id: $id) {
    id
    tracked
    variant { id legacyResourceId inventoryQuantity }
  }
}
""".strip()


@dataclass
class VariantData:
    external_id: str
    title: str
    sku: str
    price: Decimal
    inventory: int | None
    inventory_item_id: str = ""


@dataclass
class ProductData:
    external_id: str
    title: str
    description: str
    status: str  # ACTIVE | ARCHIVED | DRAFT
    variants: list[VariantData] = field(default_factory=list)


def _price(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("0.00")


def from_graphql(node: dict) -> ProductData:
    variants = []
    for v in (node.get("variants") or {}).get("nodes") or []:
        item = v.get("inventoryItem") or {}
        tracked = item.get("tracked", True)
        variants.append(
            VariantData(
                external_id=str(v.get("legacyResourceId") or legacy_id(v.get("id"))),
                title=v.get("title") or "Default",
                sku=(v.get("sku") or "").strip(),
                price=_price(v.get("price")),
                inventory=int(v["inventoryQuantity"])
                if tracked and v.get("inventoryQuantity") is not None
                else None,
                inventory_item_id=str(item.get("legacyResourceId") or legacy_id(item.get("id"))),
            )
        )
    return ProductData(
        external_id=str(node.get("legacyResourceId") or legacy_id(node.get("id"))),
        title=node.get("title") or "",
        description=node.get("description") or "",
        status=str(node.get("status") or "ACTIVE").upper(),
        variants=variants,
    )


def from_webhook(payload: dict) -> ProductData:
    """A `products/update` body (Shopify's REST product JSON)."""
    variants = []
    for v in payload.get("variants") or []:
        tracked = v.get("inventory_management") not in (None, "")
        variants.append(
            VariantData(
                external_id=str(v.get("id")),
                title=v.get("title") or "Default",
                sku=(v.get("sku") or "").strip(),
                price=_price(v.get("price")),
                inventory=int(v["inventory_quantity"])
                if tracked and v.get("inventory_quantity") is not None
                else None,
                inventory_item_id=str(v.get("inventory_item_id") or ""),
            )
        )
    return ProductData(
        external_id=str(payload.get("id")),
        title=payload.get("title") or "",
        description="",
        status=str(payload.get("status") or "active").upper(),
        variants=variants,
    )


def _free_sku(shop: Shop, wanted: str, external_id: str, exclude_pk: int | None = None) -> str:
    """SKUs are unique per shop here but not in Shopify (and may be empty there)."""
    sku = wanted or f"SHOPIFY-{external_id}"
    taken = Variant.objects.filter(shop=shop, sku=sku).exclude(pk=exclude_pk)
    if taken.exists():
        sku = f"{sku}-{external_id}"[:64]
    return sku[:64]


@transaction.atomic
def product_apply(*, shop: Shop, data: ProductData, description_known: bool = True) -> Product:
    """Create or update one product and its variants from Shopify's view of it."""
    product = (
        Product.objects.select_for_update().filter(shop=shop, external_id=data.external_id).first()
        if data.external_id
        else None
    )
    sellable = data.status == "ACTIVE"
    if product is None:
        product = Product.objects.create(
            shop=shop,
            title=data.title or "Untitled",
            description=data.description,
            external_id=data.external_id,
            active=sellable,
        )
    else:
        changes = {"title": data.title or product.title, "active": sellable}
        if description_known:
            changes["description"] = data.description
        product_update(product=product, actor=ACTOR, **changes)
    seen = set()
    for item in data.variants:
        seen.add(item.external_id)
        variant = Variant.objects.filter(shop=shop, external_id=item.external_id).first()
        if variant is None and item.sku:
            variant = Variant.objects.filter(shop=shop, sku=item.sku, external_id="").first()
        fields = dict(title=item.title, price=item.price, inventory=item.inventory, archived=not sellable)
        if variant is None:
            Variant.objects.create(
                shop=shop,
                product=product,
                sku=_free_sku(shop, item.sku, item.external_id),
                external_id=item.external_id,
                shopify_inventory_item_id=item.inventory_item_id,
                **fields,
            )
            continue
        identity = {
            "product": product,
            "external_id": item.external_id,
            "shopify_inventory_item_id": item.inventory_item_id or variant.shopify_inventory_item_id,
        }
        if item.sku and item.sku != variant.sku:
            identity["sku"] = _free_sku(shop, item.sku, item.external_id, exclude_pk=variant.pk)
        Variant.objects.filter(pk=variant.pk).update(**identity)
        variant_update(variant=variant, actor=ACTOR, **fields)
    # Variants deleted in Shopify are archived here (subscriptions may still point at them).
    for gone in Variant.objects.filter(shop=shop, product=product, archived=False).exclude(external_id=""):
        if gone.external_id not in seen:
            variant_update(variant=gone, actor=ACTOR, archived=True)
    return product


@transaction.atomic
def product_remove(*, shop: Shop, product_external_id: str) -> Product | None:
    """`products/delete`: the product is switched off and its variants archived."""
    product = Product.objects.filter(shop=shop, external_id=str(product_external_id)).first()
    if product is None:
        return None
    product_update(product=product, actor=ACTOR, active=False)
    for variant in Variant.objects.filter(product=product, archived=False):
        variant_update(variant=variant, actor=ACTOR, archived=True)
    return product


def inventory_item_refresh(*, shop: Shop, inventory_item_id: str, client: ShopifyClient | None = None):
    """`inventory_levels/update` names one item at one location; the variant's stock is the total
    over locations, so ask Shopify for it. Returns the variant, or None when it is not ours."""
    variant = Variant.objects.filter(shop=shop, shopify_inventory_item_id=str(inventory_item_id)).first()
    if variant is None:
        return None
    client = client or shop_client(shop)
    data = client.execute(INVENTORY_ITEM_QUERY, {"id": gid("InventoryItem", inventory_item_id)})
    item = data.get("inventoryItem") or {}
    found = item.get("variant") or {}
    if not found:
        return None
    quantity = found.get("inventoryQuantity")
    inventory = int(quantity) if item.get("tracked", True) and quantity is not None else None
    return variant_update(variant=variant, actor=ACTOR, inventory=inventory)


def catalogue_import(*, shop: Shop, client: ShopifyClient | None = None) -> CatalogueImport:
    """Import every product page by page (cursor pagination). Each product is applied in its own
    transaction, so a failure half-way keeps what was imported and the run says where it stopped."""
    run = CatalogueImport.objects.create(shop=shop)
    client = client or shop_client(shop)
    after = None
    try:
        while True:
            data = client.execute(PRODUCTS_QUERY, {"first": PAGE_SIZE, "after": after})
            products = data.get("products") or {}
            for node in products.get("nodes") or []:
                parsed = from_graphql(node)
                product_apply(shop=shop, data=parsed)
                run.products += 1
                run.variants += len(parsed.variants)
            page = products.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")
    except Exception as exc:
        run.state = CatalogueImport.State.FAILED
        run.error = str(getattr(exc, "message", exc))[:500]
        run.finished_at = timezone.now()
        run.save()
        raise
    run.state = CatalogueImport.State.DONE
    run.finished_at = timezone.now()
    run.save()
    return run
