"""Schemathesis against the live vendor OpenAPI schema (/vendor/schema/), on a database filled by
`seed_demo`, with a key holding every permission: no answer is a server error, every status code and
content type is documented and every body matches its schema.

Each operation is fuzzed twice: with generated path ids (mostly unknown: the 404 path) and with the
ids of real rows of the seeded shop (the path that changes data). Bounded for CI: FUZZ_EXAMPLES
examples per operation and pass (default 10); set it higher for a longer local run."""

import itertools
import os
import re
from io import StringIO

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from integrations.services import api_key_create
from subscriptions.models import DiscountCode, Order, Product, Shop, Subscription, Variant

pytestmark = pytest.mark.django_db(transaction=False)

ALL_WRITE = {r: "write" for r in ("subscriptions", "customers", "webhooks", "orders", "loyalty", "discounts")}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _real_ids(shop: Shop):
    """Yields, per operation, path ids of real rows: a different subscription (and its customer) each time."""
    subscriptions = list(Subscription.objects.filter(shop=shop).order_by("id")[:40])
    orders = list(Order.objects.filter(shop=shop).order_by("id")[:40]) or [None]
    product = Product.objects.filter(shop=shop).first()
    variant = Variant.objects.filter(product__shop=shop).first()
    code = DiscountCode.objects.filter(shop=shop).first()
    for sub, order in zip(itertools.cycle(subscriptions), itertools.cycle(orders), strict=False):
        yield {
            "customer": sub.customer_id,
            "subscription": sub.pk,
            "order": order.pk if order else 0,
            "product": product.pk,
            "variant": variant.pk,
            "discount": code.pk if code else 0,
        }


def _path_parameters(path: str, ids: dict) -> dict:
    names = re.findall(r"{(\w+)}", path)
    if not names:
        return {}
    kind_of = {
        "cust_rel_id": "customer",
        "customer_relationship_id": "customer",
        "customer_shopify_id": "customer",
        "purchase_state_id": "subscription",
        "shopify_subscription_id": "subscription",
        "bill_id": "order",
        "order_id": "order",
        "shopify_id": "order",
    }
    resource_of_id = {
        "customers": "customer",
        "subscriptions": "subscription",
        "orders": "order",
        "products": "product",
        "variants": "variant",
        "purchasable": "product",
        "discount-codes": "discount",
    }
    out = {}
    for name in names:
        if name in kind_of:
            out[name] = ids[kind_of[name]]
        elif name == "id":
            segment = path.split("/{id}")[0].rsplit("/", 1)[-1]
            if segment in resource_of_id:
                out[name] = ids[resource_of_id[segment]]
    return out


def _fuzz(operation, raw_key: str, path_parameters: dict, examples: int, statuses: dict) -> None:
    strategy = operation.as_strategy(path_parameters=path_parameters or None)

    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        case.headers = {**(case.headers or {}), "x-smartrr-access-token": raw_key}
        case.headers.pop("Authorization", None)
        response = case.call_and_validate(checks=CHECKS)
        statuses.setdefault(operation.label, set()).add(response.status_code)

    fuzz()


def test_every_vendor_operation_answers_within_its_schema_and_never_500(settings):
    from config.wsgi import application

    # The fuzzer sends a thousand requests with one key: on a shared cache (Redis in CI) the per-key
    # rate limit would answer most of them 429 (documented, but it would test nothing else).
    settings.VENDOR_API_RATE_LIMIT = 10**9

    call_command("seed_demo", customers=20, stdout=StringIO())
    shop = Shop.objects.get(domain="demo-shop.example")
    _, raw = api_key_create(shop=shop, token_nickname="fuzz", permissions=ALL_WRITE)
    schema = schemathesis.openapi.from_wsgi("/vendor/schema/?format=json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 90  # the whole documented surface, not a subset

    failures, statuses = [], {}
    ids = _real_ids(shop)
    for operation in operations:
        passes = [{}]
        if "{" in operation.path:
            passes.append(_path_parameters(operation.path, next(ids)))
        for path_parameters in passes:
            try:
                # Unknown ids mostly take the 404 path: fewer examples there, the full count on real rows.
                examples = EXAMPLES if path_parameters or "{" not in operation.path else max(3, EXAMPLES // 3)
                _fuzz(operation, raw, path_parameters, examples, statuses)
            except BaseException as exc:  # noqa: B036 (FailureGroup is a BaseExceptionGroup) collect every operation's failure, then report them all
                failures.append(f"{operation.label} {path_parameters}: {exc}"[:3000])
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
    # The fuzzing reached the code that does the work, not only the validation in front of it.
    succeeded = [label for label, codes in statuses.items() if any(200 <= c < 300 for c in codes)]
    assert len(succeeded) >= len(operations) // 2, sorted(set(statuses) - set(succeeded))
