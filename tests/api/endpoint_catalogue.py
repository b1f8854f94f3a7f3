"""Every vendor API operation, found by walking the URL resolver, so cross-cutting tests (tenancy,
permissions, errors, idempotency, query counts) cover endpoints added later without being edited.

An operation is (method, path template, view class). Path parameters are filled with the ids of
one shop's objects (`ShopWorld`); which object a parameter means is decided by its name:

| parameter names (case, `_` and `-` ignored)                          | object            |
|----------------------------------------------------------------------|-------------------|
| cust_rel_id, custRelId, customer_id, customerRelationshipId,         | customer          |
| customerShopifyId                                                    |                   |
| purchase_state_id, purchaseStateId, customerPurchaseStateId,         | subscription      |
| shopifySubscriptionId, subscription_id                               |                   |
| order_id, orderId, shopifyOrderId                                    | order             |
| bill_id, billId                                                      | order (a bill is an order's charge) |
| product_id, productId, purchasable_id                                | product           |
| variant_id, variantId                                                | variant           |
| discount_id, discountId, discount_code_id, code_id                   | discount code     |
| webhook_id, webhookId, endpoint_id                                   | webhook endpoint  |
| plan_id, sellingPlanId, selling_plan_id                              | plan              |
| program_id, programId                                                | subscription program |
| address_id, payment_method_id                                        | address / payment method |
| id, pk, shopifyId, shopify_id, external_id (generic names)           | by the path segment before it: |
|                                                                      | customer(s), customer-relationship -> customer; |
|                                                                      | purchase-state(s), subscription(s) -> subscription; |
|                                                                      | order(s), bill(s) -> order; product(s), purchasable -> product; |
|                                                                      | variant(s) -> variant; discount(s), discount-code(s) -> discount; |
|                                                                      | webhook(s) -> webhook; plan(s), selling-plan(s) -> plan |

A parameter that none of these rules maps raises `UnmappedParameter`: a new endpoint cannot
silently escape the matrices; extend the tables here instead.

`SAMPLE_BODIES` holds a valid request body per write operation (placeholders `{customer}`,
`{variant}`, ... are replaced by the shop's ids). Write operations not listed get `{}`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

VENDOR_PREFIX = "/vendor/"
EXCLUDED = ("/vendor/schema/", "/vendor/docs/")
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Operations that need no resource permission (they only tell the caller who it is).
NO_RESOURCE = {"/vendor/ping"}


class UnmappedParameter(AssertionError):
    """A vendor path parameter whose object the catalogue does not know."""


def _norm(name: str) -> str:
    return re.sub(r"[_\-]", "", name).lower()


PARAM_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ["custrelid", "customerid", "customerrelationshipid", "customershopifyid", "custid"], "customer"
    ),
    **dict.fromkeys(
        [
            "purchasestateid",
            "customerpurchasestateid",
            "shopifysubscriptionid",
            "subscriptionid",
        ],
        "subscription",
    ),
    **dict.fromkeys(["orderid", "shopifyorderid", "billid"], "order"),
    **dict.fromkeys(["productid", "purchasableid", "shopifyproductid"], "product"),
    **dict.fromkeys(["variantid", "shopifyvariantid"], "variant"),
    **dict.fromkeys(["discountid", "discountcodeid", "codeid"], "discount"),
    **dict.fromkeys(["webhookid", "endpointid", "webhookendpointid"], "webhook"),
    **dict.fromkeys(["planid", "sellingplanid"], "plan"),
    **dict.fromkeys(["programid", "sellingplangroupid"], "program"),
    "addressid": "address",
    "paymentmethodid": "payment_method",
}
GENERIC_PARAMS = {"id", "pk", "shopifyid", "externalid"}
SEGMENT_KINDS: dict[str, str] = {
    **dict.fromkeys(["customer", "customers", "customer-relationship", "customer-relationships"], "customer"),
    **dict.fromkeys(["purchase-state", "purchase-states", "subscription", "subscriptions"], "subscription"),
    **dict.fromkeys(["order", "orders", "bill", "bills"], "order"),
    **dict.fromkeys(["product", "products", "purchasable", "purchasables"], "product"),
    **dict.fromkeys(["variant", "variants"], "variant"),
    **dict.fromkeys(["discount", "discounts", "discount-code", "discount-codes"], "discount"),
    **dict.fromkeys(["webhook", "webhooks"], "webhook"),
    **dict.fromkeys(["plan", "plans", "selling-plan", "selling-plans"], "plan"),
}


def param_kind(template: str, param: str) -> str:
    """Which object of a shop a path parameter names (see the module docstring)."""
    name = _norm(param)
    if name in PARAM_KINDS:
        return PARAM_KINDS[name]
    if name in GENERIC_PARAMS:
        before = template.split("{" + param + "}")[0].rstrip("/").rsplit("/", 1)[-1]
        if before in SEGMENT_KINDS:
            return SEGMENT_KINDS[before]
    raise UnmappedParameter(
        f"{template}: path parameter {{{param}}} names no object the test catalogue knows; "
        "map it in tests/api/endpoint_catalogue.py (PARAM_KINDS / SEGMENT_KINDS)."
    )


@dataclass(frozen=True)
class Endpoint:
    method: str  # upper case
    template: str  # "/vendor/customer/{cust_rel_id}/purchase-state/{purchase_state_id}/skip"
    view_class: type
    params: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def resource(self) -> str | None:
        return getattr(self.view_class, "resource", None)

    @property
    def is_write(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    @property
    def has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH")

    @property
    def kinds(self) -> dict[str, str]:
        return {p: param_kind(self.template, p) for p in self.params}

    def url(self, world: ShopWorld, **overrides) -> str:
        path = self.template
        for param, kind in self.kinds.items():
            value = overrides.get(param, world.ids[kind])
            path = path.replace("{" + param + "}", str(value))
        return path

    def body(self, world: ShopWorld) -> dict | None:
        if not self.has_body:
            return None
        for method in (self.method, "PUT", "POST"):  # POST aliases of PUT actions share a body
            if (method, self.template) in SAMPLE_BODIES:
                return _fill(SAMPLE_BODIES[(method, self.template)], world)
        return {}

    @property
    def query(self) -> dict:
        return dict(SAMPLE_QUERIES.get(self.template, {}))


def _route_to_template(route: str) -> tuple[str, list[str]]:
    params: list[str] = []

    def sub(match):
        params.append(match.group("name"))
        return "{" + match.group("name") + "}"

    route = re.sub(r"<(?:[^>:]+:)?(?P<name>[^>]+)>", sub, route)
    route = re.sub(r"\(\?P<(?P<name>[^>]+)>[^)]*\)", sub, route)
    return route.lstrip("^").rstrip("$").replace("\\", ""), params


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _view_methods(view_class) -> list[str]:
    allowed = getattr(view_class, "http_method_names", HTTP_METHODS)
    return [m.upper() for m in HTTP_METHODS if m in allowed and callable(getattr(view_class, m, None))]


@cache
def vendor_endpoints() -> tuple[Endpoint, ...]:
    """Every (method, path template, view) served under /vendor/, schema and docs excepted."""
    found: list[Endpoint] = []
    for route, callback in _walk(get_resolver().url_patterns):
        template, params = _route_to_template("/" + route)
        if not template.startswith(VENDOR_PREFIX) or template.startswith(EXCLUDED):
            continue
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        assert view_class is not None, f"{template}: not a class-based view"
        for method in _view_methods(view_class):
            found.append(Endpoint(method, template, view_class, tuple(params)))
    assert found, "no vendor endpoints found: is the URLconf loaded?"
    return tuple(found)


def endpoints(*, with_ids: bool | None = None, write: bool | None = None, method: str | None = None):
    out = []
    for ep in vendor_endpoints():
        if with_ids is not None and bool(ep.params) != with_ids:
            continue
        if write is not None and ep.is_write != write:
            continue
        if method is not None and ep.method != method:
            continue
        out.append(ep)
    return out


@cache
def openapi_document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def documented_operation(ep: Endpoint) -> dict | None:
    """The operation in the OpenAPI document (drf-spectacular names a `{pk}` parameter `{id}`; the
    Smartrr actions' POST aliases are left out of it, so they take their PUT's)."""
    item = openapi_document()["paths"].get(ep.template.replace("{pk}", "{id}"), {})
    return item.get(ep.method.lower()) or (item.get("put") if ep.method == "POST" else None)


def takes_json_body(ep: Endpoint) -> bool:
    """A write whose document declares a request body and a success answer (an operation that only
    answers 422 `not_supported` on this installation reads no body)."""
    operation = documented_operation(ep) or {}
    return (
        ep.has_body
        and "requestBody" in operation
        and any(code.startswith("2") for code in operation.get("responses", {}))
    )


def list_endpoints() -> list[Endpoint]:
    """GET operations answering a list of the shop's rows (no object id, or a parent's id only)."""
    return [
        ep
        for ep in vendor_endpoints()
        if ep.method == "GET" and not ep.template.endswith("}") and ep.template not in NO_RESOURCE
    ]


# ------------------------------------------------------------------------------------ shop data


@dataclass
class ShopWorld:
    """One shop with one object of each kind the vendor API addresses. `marker` is written into
    every text field a response may show (emails, names, external ids, titles, SKUs, codes, URLs),
    so a response that leaks this shop's rows contains it."""

    shop: object
    objects: dict[str, object]
    marker: str

    @property
    def ids(self) -> dict[str, int]:
        return {kind: obj.pk for kind, obj in self.objects.items()}

    @property
    def customer(self):
        return self.objects["customer"]

    @property
    def subscription(self):
        return self.objects["subscription"]


def make_world(shop, *, tag: str = "a") -> ShopWorld:
    from tests import factories as f
    from webhooks.models import WebhookEndpoint

    marker = f"mark{tag}{shop.pk}z"
    customer = f.CustomerFactory(
        shop=shop,
        email=f"{marker}@example.com",
        first_name=f"First{marker}",
        last_name=f"Last{marker}",
        external_id=f"cust-{marker}",
    )
    product = f.ProductFactory(shop=shop, title=f"Product {marker}")
    variant = f.VariantFactory(product=product, sku=f"SKU-{marker}")
    subscription = f.SubscriptionFactory(customer=customer, lines=[variant], external_id=f"sub-{marker}")
    order = f.OrderFactory(subscription=subscription, external_id=f"ord-{marker}")
    f.OrderLineFactory(order=order, variant=variant)
    discount = f.DiscountCodeFactory(shop=shop, code=f"CODE{marker}".upper())
    webhook = WebhookEndpoint.objects.create(
        shop_id=shop.pk, url=f"https://hooks.example.com/{marker}", events=["subscription.skipped"]
    )
    return ShopWorld(
        shop=shop,
        marker=marker,
        objects={
            "customer": customer,
            "subscription": subscription,
            "order": order,
            "product": product,
            "variant": variant,
            "discount": discount,
            "webhook": webhook,
            "plan": subscription.plan,
            "program": subscription.plan.program,
            "address": subscription.shipping_address,
            "payment_method": subscription.payment_method,
        },
    )


def _future(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


PS = "/vendor/customer/{cust_rel_id}/purchase-state/{purchase_state_id}"
SAMPLE_BODIES: dict[tuple[str, str], dict] = {
    ("PUT", f"{PS}/pause"): {"unpauseDate": "@future:40"},
    ("PUT", f"{PS}/cancel"): {"reason": "Too much coffee"},
    ("PUT", f"{PS}/next-billing-date"): {"nextBillingDate": "@future:30"},
    ("PUT", f"{PS}/gift"): {
        "recipientFirstName": "Ann",
        "address1": "1 Main St",
        "city": "Boston",
        "countryCode": "US",
    },
    ("PUT", f"{PS}/selling-plan"): {"sellingPlanId": "{plan}"},
    ("POST", f"{PS}/line-item"): {"variantId": "{variant}", "quantity": 1},
    ("POST", "/vendor/purchase-state"): {
        "custRelId": "{customer}",
        "sellingPlanId": "{plan}",
        "items": [{"variantId": "{variant}", "quantity": 1}],
    },
    ("PUT", "/vendor/customer/purchase-state/bulk-cancel"): {"purchaseStateIds": ["{subscription}"]},
    ("PUT", "/vendor/customer/purchase-state/bulk-pause"): {"purchaseStateIds": ["{subscription}"]},
    ("PUT", "/vendor/customer/purchase-state/bulk-skip"): {"purchaseStateIds": ["{subscription}"]},
    ("POST", "/vendor/webhook"): {"url": "https://hooks.example.com/new", "topic": "Subscription skip"},
    ("PUT", "/vendor/webhook/{webhook_id}"): {"url": "https://hooks.example.com/changed"},
}


# Query parameters a GET operation needs to answer 200 (the search text matches every shop's customers).
SAMPLE_QUERIES: dict[str, dict] = {
    "/vendor/order/formatted": {"filterLike[emailOrName]": "example.com"},
}


def _fill(value, world: ShopWorld):
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world.ids[value[1:-1]]
    if isinstance(value, str) and value.startswith("@future:"):
        return _future(int(value.split(":")[1]))
    return value


# ------------------------------------------------------------------------------- db snapshots


def db_snapshot() -> dict[str, list[dict]]:
    """Every row of the business tables (and the event outbox and activity log), to prove a refused
    request changed nothing."""
    from django.apps import apps

    snapshot = {}
    for app_label in ("subscriptions", "webhooks", "loyalty"):
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models():
            snapshot[model._meta.label] = list(model.objects.order_by("pk").values())
    return snapshot


def assert_unchanged(before: dict, after: dict, context: str = "") -> None:
    for label, rows in before.items():
        assert after[label] == rows, f"{context}: {label} changed"


# ------------------------------------------------------------------------------------ requests

_SAMPLE = object()
PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "errors"}


def client_with(raw_key: str | None, *, bearer: bool = False):
    from rest_framework.test import APIClient

    client = APIClient()
    if raw_key is not None:
        if bearer:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        else:
            client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw_key)
    return client


def send(client, ep: Endpoint, world: ShopWorld, *, body=_SAMPLE, url: str | None = None, **extra):
    """Call one operation on `world`'s objects with its sample body (or `body`) as JSON."""
    url = url or ep.url(world)
    method = getattr(client, ep.method.lower())
    if ep.has_body:
        return method(url, ep.body(world) if body is _SAMPLE else body, format="json", **extra)
    if ep.method == "GET":
        return method(url, ep.query, **extra)
    return method(url, **extra)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    """An RFC 9457 problem answer of the vendor API, with its full shape."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert set(body) == PROBLEM_KEYS, body
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "message", "code"}, error
    if code is not None:
        assert body["code"] == code, body
    return body


def error_fields(body: dict) -> set[str]:
    return {e["field"] for e in body["errors"]}
