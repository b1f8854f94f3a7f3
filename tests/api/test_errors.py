"""Every refused request answers an RFC 9457 problem (application/problem+json, full shape) that
names the field at fault, and changes nothing. The generic cases run on every write endpoint."""

import json

import pytest

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.models import Subscription
from tests.api.endpoint_catalogue import (
    assert_problem,
    assert_unchanged,
    db_snapshot,
    endpoints,
    error_fields,
    make_world,
    send,
    takes_json_body,
)

pytestmark = pytest.mark.django_db

WITH_BODY = [ep for ep in endpoints(write=True) if takes_json_body(ep)]
ids = lambda ep: ep.id  # noqa: E731
PS = "/vendor/customer/{c}/purchase-state/{s}"


@pytest.fixture
def world(shop):
    return make_world(shop)


def _url(world, action):
    return PS.format(c=world.customer.pk, s=world.subscription.pk) + f"/{action}"


@pytest.fixture
def unchanged():
    """Asserts, at the end of the test, that the database is as it was at its start."""
    before = db_snapshot()
    yield
    assert_unchanged(before, db_snapshot())


# ------------------------------------------------------------------------------ every endpoint


@pytest.mark.parametrize("ep", WITH_BODY, ids=ids)
def test_malformed_json_is_400(api, world, ep, unchanged):
    response = api.generic(
        ep.method, ep.url(world), b'{"reason": "unfinished', content_type="application/json"
    )
    body = assert_problem(response, 400, "parse_error")
    assert "JSON" in body["detail"]


@pytest.mark.parametrize("ep", WITH_BODY, ids=ids)
@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/plain", b"skip it please"),
        ("application/x-www-form-urlencoded", b"reason=too+much"),
        (
            "multipart/form-data; boundary=BoUnDaRy",
            b"--BoUnDaRy\r\nContent-Disposition: form-data; "
            b'name="reason"\r\n\r\ntoo much\r\n--BoUnDaRy--\r\n',
        ),
    ],
    ids=["text", "form", "multipart"],
)
def test_unsupported_media_type_is_415(api, world, ep, content_type, payload, unchanged):
    response = api.generic(ep.method, ep.url(world), payload, content_type=content_type)
    body = assert_problem(response, 415, "unsupported_media_type")
    assert content_type.split(";")[0] in body["detail"]


@pytest.mark.parametrize("ep", WITH_BODY, ids=ids)
def test_oversized_body_is_413(api, world, ep, settings, unchanged):
    settings.VENDOR_API_MAX_BODY_BYTES = 1024
    payload = json.dumps({**(ep.body(world) or {}), "padding": "x" * 2000}).encode()

    response = api.generic(ep.method, ep.url(world), payload, content_type="application/json")

    assert_problem(response, 413, "payload_too_large")


def test_default_body_limit_is_256_kib(api, world, unchanged):
    payload = json.dumps({"reason": "x" * (256 * 1024)}).encode()
    response = api.generic("PUT", _url(world, "cancel"), payload, content_type="application/json")
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize("ep", WITH_BODY, ids=ids)
def test_unknown_field_is_400_naming_it(api, world, ep, unchanged):
    body = {**(ep.body(world) or {}), "surpriseField": 1}

    response = send(api, ep, world, body=body)

    problem = assert_problem(response, 400, "validation_error")
    assert "surpriseField" in error_fields(problem), problem


@pytest.mark.parametrize("ep", WITH_BODY, ids=ids)
def test_a_json_array_instead_of_an_object_is_400(api, world, ep, unchanged):
    response = send(api, ep, world, body=[1, 2])
    assert_problem(response, 400, "validation_error")


# ------------------------------------------------------------------------- named fields and types


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("pause", {"unpauseDate": 20250101}, "unpauseDate"),
        ("cancel", {"reason": {"why": "no"}}, "reason"),
        ("selling-plan", {"sellingPlanId": "monthly"}, "sellingPlanId"),
        ("line-item", {"variantId": "abc", "quantity": 1}, "variantId"),
        ("line-item", {"sku": "X", "quantity": "lots"}, "quantity"),
        ("line-item", {"sku": "X", "quantity": 0}, "quantity"),
    ],
)
def test_wrong_type_is_400_naming_the_field(api, world, action, payload, field, unchanged):
    method = api.post if action == "line-item" else api.put
    problem = assert_problem(method(_url(world, action), payload, format="json"), 400, "validation_error")
    assert field in error_fields(problem)
    assert problem["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"custRelId": "abc", "sellingPlanId": 1, "items": [{"sku": "X"}]}, "custRelId"),
        ({"custRelId": 1, "sellingPlanId": 1, "items": "X"}, "items"),
        (
            {"custRelId": 1, "sellingPlanId": 1, "items": [{"sku": "X", "quantity": "many"}]},
            "items[0].quantity",
        ),
        ({"custRelId": 1, "sellingPlanId": 1, "items": []}, "items"),
        ({"sellingPlanId": 1, "items": [{"sku": "X"}]}, "custRelId"),
    ],
)
def test_create_names_the_field_at_fault(api, world, payload, field, unchanged):
    problem = assert_problem(
        api.post("/vendor/purchase-state", payload, format="json"), 400, "validation_error"
    )
    assert field in error_fields(problem), problem


def test_bulk_with_wrong_id_types_is_400(api, world, unchanged):
    response = api.put(
        "/vendor/customer/purchase-state/bulk-pause", {"purchaseStateIds": "all"}, format="json"
    )
    assert "purchaseStateIds" in error_fields(assert_problem(response, 400, "validation_error"))


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("next-billing-date", {"nextBillingDate": "2030-02-30"}, "nextBillingDate"),
        ("next-billing-date", {"nextBillingDate": "next tuesday"}, "nextBillingDate"),
        ("next-billing-date", {"date": "31/12/2030"}, "date"),
        ("pause", {"unpauseDate": "2030-13-01"}, "unpauseDate"),
        ("activate", {"nextBillingDate": "soon"}, "nextBillingDate"),
        ("skip", {"date": "yesterday"}, "date"),
    ],
)
def test_bad_date_is_400_naming_the_field(api, world, action, payload, field, unchanged):
    problem = assert_problem(api.put(_url(world, action), payload, format="json"), 400, "validation_error")
    assert field in error_fields(problem)


def test_bad_query_parameters_are_400_naming_them(api, world, unchanged):
    for query, field in [
        ({"pageSize": "1000"}, "pageSize"),
        ({"pageNumber": "first"}, "pageNumber"),
        ({"filterEquals[purchaseStateStatus]": "SLEEPING"}, "filterEquals[purchaseStateStatus]"),
    ]:
        problem = assert_problem(api.get("/vendor/purchase-state", query), 400, "validation_error")
        assert field in error_fields(problem)
    problem = assert_problem(api.get("/vendor/order/formatted"), 400, "validation_error")
    assert "filterLike[emailOrName]" in error_fields(problem)


# ------------------------------------------------------------------------------ domain refusals


def test_pausing_a_paused_subscription_is_409_with_the_domain_code(api, world):
    services.subscription_pause(subscription=world.subscription, actor=Actor.system())
    before = db_snapshot()

    problem = assert_problem(api.put(_url(world, "pause")), 409, "subscription_paused")

    assert "PAUSED" in problem["detail"]
    assert problem["errors"] == [
        {"field": "status", "message": problem["detail"], "code": "subscription_paused"}
    ]
    assert_unchanged(before, db_snapshot())


@pytest.mark.parametrize("action", ["skip", "pause", "gift", "send-now", "next-billing-date"])
def test_actions_on_a_cancelled_subscription_are_409(api, world, action):
    services.subscription_cancel(subscription=world.subscription, actor=Actor.system(), reason="test")
    from tests.api.endpoint_catalogue import SAMPLE_BODIES

    payload = SAMPLE_BODIES.get(
        ("PUT", "/vendor/customer/{cust_rel_id}/purchase-state/{purchase_state_id}/" + action), {}
    )
    payload = {k: (v if not str(v).startswith("@future") else "2031-01-15") for k, v in payload.items()}
    before = db_snapshot()

    response = api.put(_url(world, action), payload, format="json")

    assert_problem(response, 409, "subscription_cancelled")
    assert_unchanged(before, db_snapshot())
    assert Subscription.objects.get(pk=world.subscription.pk).status == "CANCELLED"


def test_unknown_route_under_vendor_is_404_problem(api):
    response = api.get("/vendor/no-such-thing")
    assert response.status_code == 404


def test_method_not_allowed_is_405_problem(api, world):
    response = api.delete(_url(world, "skip"))
    assert_problem(response, 405, "method_not_allowed")
    assert "DELETE" in response.json()["detail"]
