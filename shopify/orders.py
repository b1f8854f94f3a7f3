"""Each successful renewal becomes a Shopify order.

The store connection is a destination of the delivery engine for `subscription.transaction_succeeded`:
the event is written with the charge, in the billing transaction, and relayed after it commits, so a
Shopify order is only ever created for a settled charge. The engine retries failures with backoff
(THROTTLED / 429 / 5xx / network), holds the deliveries while the token is refused (the card says
"needs attention"), logs every attempt in the console's delivery log, and can replay one. Nothing
here charges anybody: the charge was settled before the event existed.

One Shopify order per Order: an Order that already has its Shopify id is never sent again; before
creating, Shopify is asked for an order carrying this Order's tag, which covers a worker that died
between Shopify's answer and our write.
"""

import json
from decimal import Decimal

from django.db import transaction

from integrations.models import Integration
from integrations.partners import Partner, register_partner
from shopify.client import ShopifyClient, ShopifyError, gid, legacy_id, user_errors
from shopify.connection import KEY, after_connect, client_for, connect
from shopify.customers import shopify_customer_for
from subscriptions.models import Order, SubscriptionDiscount
from webhooks.http import HttpResult
from webhooks.models import Delivery, OutboxEvent

EVENT = "subscription.transaction_succeeded"
ORDER_ATTEMPTS = 2
ORDER_MAX_SLEEP = 5.0

ORDER_CREATE = """
mutation orderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    userErrors { field message }
    order { id legacyResourceId name customer { id legacyResourceId } }
  }
}
""".strip()

ORDER_BY_TAG = """
query OrderByTag($query: String!) {
  orders(first: 1, query: $query) { nodes { id legacyResourceId name } }
}
""".strip()


def order_tag(order: Order) -> str:
    return f"subscription-order-{order.pk}"


def subscription_tag(order: Order) -> str:
    return f"subscription-{order.subscription_id}"


def _money(amount: Decimal, currency: str) -> dict:
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


def _address(address: dict) -> dict | None:
    if not address or not address.get("line1"):
        return None
    result = {
        "firstName": address.get("first_name") or "",
        "lastName": address.get("last_name") or "",
        "address1": address.get("line1") or "",
        "address2": address.get("line2") or "",
        "city": address.get("city") or "",
        "zip": address.get("postal_code") or "",
        "countryCode": (address.get("country") or "").upper(),
    }
    if address.get("province"):
        result["provinceCode"] = address["province"]
    if address.get("phone"):
        result["phone"] = address["phone"]
    return {k: v for k, v in result.items() if v != ""}


def _discount_code(order: Order) -> str:
    codes = (
        SubscriptionDiscount.objects.filter(subscription_id=order.subscription_id, removed_at__isnull=True)
        .select_related("code")
        .order_by("applied_at", "pk")
    )
    names = [applied.code.code for applied in codes]
    return "+".join(names)[:255] or "SUBSCRIPTION"


def order_input(order: Order, customer: dict) -> dict:
    """`OrderCreateOrderInput` for one paid renewal: its lines at the prices charged, the discount
    as one fixed-amount code, the shipping address, a paid transaction, and tags naming the
    subscription and this order."""
    currency = order.currency
    lines = []
    for line in order.lines.select_related("variant").order_by("id"):
        item = {"quantity": line.quantity, "priceSet": _money(line.unit_price, currency)}
        if line.variant is not None and line.variant.external_id:
            item["variantId"] = gid("ProductVariant", line.variant.external_id)
        else:  # a console-only product: a custom line
            item.update(title=line.title, sku=line.sku)
        lines.append(item)
    data: dict = {
        "currency": currency,
        "lineItems": lines,
        "customer": customer,
        "email": order.customer.email,
        "financialStatus": "PAID",
        "transactions": [
            {
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "subscriptions",
                "amountSet": _money(order.total, currency),
            }
        ],
        "tags": ["Subscription", subscription_tag(order), order_tag(order)],
        "sourceIdentifier": str(order.pk),
        "note": f"Renewal of subscription #{order.subscription_id} due {order.billing_date}"
        + (" (gift)" if order.is_gift else ""),
    }
    if order.discount_total > 0:
        data["discountCode"] = {
            "itemFixedDiscountCode": {
                "code": _discount_code(order),
                "amountSet": _money(order.discount_total, currency),
            }
        }
    address = _address(order.shipping_address)
    if address:
        data["shippingAddress"] = address
    return data


def _already_in_shopify(client: ShopifyClient, order: Order) -> dict | None:
    data = client.execute(ORDER_BY_TAG, {"query": f"tag:'{order_tag(order)}'"})
    nodes = (data.get("orders") or {}).get("nodes") or []
    return nodes[0] if nodes else None


def _record(order: Order, found: dict) -> None:
    Order.objects.filter(pk=order.pk, external_id="").update(
        external_id=str(found.get("legacyResourceId") or legacy_id(found.get("id"))),
        shopify_order_name=found.get("name") or "",
    )


def order_export(*, order: Order, client: ShopifyClient) -> Order:
    """Create the Shopify order of a paid renewal (once). Raises ShopifyError."""
    order = Order.objects.select_related("customer", "shop").get(pk=order.pk)
    if order.external_id:
        return order
    if order.status != Order.Status.PAID:
        raise ShopifyError(f"order {order.pk} is not paid", kind="refused")
    found = _already_in_shopify(client, order)
    if found is None:
        customer = shopify_customer_for(customer=order.customer, client=client)
        data = client.execute(
            ORDER_CREATE,
            {
                "order": order_input(order, customer),
                "options": {"sendReceipt": True, "inventoryBehaviour": "DECREMENT_OBEYING_POLICY"},
            },
        )
        payload = data.get("orderCreate") or {}
        problems = user_errors(payload)
        if problems or not payload.get("order"):
            raise ShopifyError(f"Shopify refused order {order.pk}: {problems or 'no order'}", kind="refused")
        found = payload["order"]
        shopify_customer = (found.get("customer") or {}).get("legacyResourceId")
        if shopify_customer and not order.customer.external_id:
            type(order.customer).objects.filter(pk=order.customer_id, external_id="").update(
                external_id=str(shopify_customer)
            )
    with transaction.atomic():
        _record(order, found)
    order.refresh_from_db()
    return order


# ---------------------------------------------------------------- as a delivery destination


def _result(status: int | None, message: str, *, retry_after=None, error: str = "") -> HttpResult:
    headers = {"Retry-After": str(int(retry_after.total_seconds()))} if retry_after else {}
    return HttpResult(status, json.dumps({"message": message})[:2000], headers, 0, error)


STATUS_BY_KIND = {"auth": 401, "not_found": 404, "refused": 422, "throttled": 429}


def send(integration: Integration, event: OutboxEvent, delivery: Delivery) -> HttpResult:
    """Create the Shopify order of the event's renewal; the answer tells the engine what to do:
    200 done, 401/403 hold, 429/5xx/network retry later, 422 refused (no retry; replayable)."""
    order_id = ((event.payload.get("data") or {}).get("order") or {}).get("id")
    order = Order.objects.filter(shop_id=integration.shop_id, pk=order_id).first()
    if order is None:
        return _result(422, f"no order {order_id} in this shop", error=f"no order {order_id}")
    try:
        # Short waits only: the delivery's lease (WEBHOOKS_DELIVERY_LEASE_SECONDS) must outlast the
        # whole send, or another worker could take it over; longer waits go back to the engine.
        client = client_for(integration, max_attempts=ORDER_ATTEMPTS, max_sleep=ORDER_MAX_SLEEP)
        order = order_export(order=order, client=client)
    except ShopifyError as exc:
        status = (
            exc.status if exc.kind in ("auth", "unavailable") and exc.status else STATUS_BY_KIND.get(exc.kind)
        )
        message = f"Order #{order.pk}: {exc.message}"
        return _result(status, message, retry_after=exc.retry_after, error=message[:500])
    return _result(
        200, f"Order #{order.pk} is Shopify order {order.shopify_order_name} ({order.external_id})"
    )


def send_test(integration: Integration, event_type: str) -> HttpResult:
    """The console's "Send test": read the shop's name (creating a test order would be real)."""
    try:
        data = client_for(integration).execute("{ shop { name } }")
    except ShopifyError as exc:
        return _result(exc.status or STATUS_BY_KIND.get(exc.kind), exc.message, error=exc.message)
    return _result(200, f"Connected to {(data.get('shop') or {}).get('name')}")


register_partner(
    Partner(
        key=KEY,
        name="Shopify",
        events={EVENT: "Create the Shopify order"},
        send=send,
        connect=connect,
        after_connect=after_connect,
        credential_fields=("shop_domain", "access_token", "api_secret"),
        description=(
            "Your Shopify store: the catalogue (products, variants, stock) comes from Shopify and stays "
            "current through its webhooks, and every successful renewal becomes a Shopify order. "
            "Shopify Flow uses this connection too."
        ),
        extra={
            "send_test": send_test,
            "optional_credentials": ("api_secret",),
            "credential_labels": {
                "shop_domain": "Shop domain (your-shop.myshopify.com)",
                "access_token": "Admin API access token",
                "api_secret": "API secret key (signs Shopify's webhooks)",
            },
            "credential_help": {
                "access_token": "From your custom app: Settings > Apps > Develop apps > API credentials.",
                "api_secret": "Leave empty when the platform's Shopify app signs your webhooks.",
            },
        },
    )
)
