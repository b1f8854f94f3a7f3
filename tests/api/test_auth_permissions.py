"""Authentication and per-resource permissions across every vendor endpoint (from the URL resolver)."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import RESOURCES, ApiKey
from integrations.services import api_key_revoke
from tests.api.endpoint_catalogue import (
    NO_RESOURCE,
    assert_problem,
    assert_unchanged,
    client_with,
    db_snapshot,
    make_world,
    send,
    vendor_endpoints,
)

pytestmark = pytest.mark.django_db

ALL = vendor_endpoints()
WITH_RESOURCE = [ep for ep in ALL if ep.template not in NO_RESOURCE]
ids = lambda ep: ep.id  # noqa: E731


@pytest.fixture
def world(shop):
    return make_world(shop)


def _everything_but(resource: str) -> dict[str, str]:
    return {r: ("none" if r == resource else "write") for r in RESOURCES}


def test_every_vendor_view_declares_a_known_resource():
    """A view without `resource` would be open to any key of the shop."""
    for ep in WITH_RESOURCE:
        assert ep.resource in RESOURCES, f"{ep.id}: {ep.view_class.__name__}.resource = {ep.resource!r}"


def _bad_keys(shop, make_key):
    _, revoked_raw = make_key(shop)
    api_key_revoke(api_key=ApiKey.objects.get(prefix=revoked_raw.split(".")[0]))
    expiring, expired_raw = make_key(shop, expires_at=timezone.now() + dt.timedelta(minutes=5))
    ApiKey.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _, good_raw = make_key(shop)
    prefix, _, secret = good_raw.partition(".")
    return {
        "no key": None,
        "wrong key": "sk_0000000000.not-a-real-secret",
        "right prefix, wrong secret": f"{prefix}.{secret[::-1]}",
        "garbage": "hello",
        "revoked": revoked_raw,
        "expired": expired_raw,
    }


@pytest.mark.parametrize("ep", ALL, ids=ids)
def test_missing_wrong_revoked_or_expired_key_is_401(shop, make_key, world, ep):
    before = db_snapshot()
    for label, raw in _bad_keys(shop, make_key).items():
        for bearer in (False, True):
            response = send(client_with(raw, bearer=bearer), ep, world)
            body = assert_problem(response, 401)
            assert response.has_header("WWW-Authenticate"), (label, ep.id)
            assert body["code"] in ("not_authenticated", "invalid_api_key"), (label, body)
    assert_unchanged(before, db_snapshot(), ep.id)


@pytest.mark.parametrize("ep", WITH_RESOURCE, ids=ids)
def test_permission_matrix(shop, make_key, world, ep):
    before = db_snapshot()

    # A key with every permission but this view's resource: 403 naming the resource.
    _, raw = make_key(shop, _everything_but(ep.resource))
    body = assert_problem(send(client_with(raw), ep, world), 403, f"missing_permission:{ep.resource}")
    assert f"'{ep.resource}'" in body["detail"]

    # A read-only key (every resource): reads are served with either header, writes are 403.
    _, read_raw = make_key(shop, {r: "read" for r in RESOURCES})
    for bearer in (False, True):
        response = send(client_with(read_raw, bearer=bearer), ep, world)
        if ep.is_write:
            body = assert_problem(response, 403, f"missing_permission:{ep.resource}")
            assert "read and write" in body["detail"] and f"'{ep.resource}'" in body["detail"]
        else:
            # 200, or a clear 4xx where the operation has no meaning for this shop.
            assert response.status_code in (200, 422), (bearer, response.content[:300])
    assert_unchanged(before, db_snapshot(), ep.id)

    # Read and write on this resource alone is enough (last: it may change things).
    _, own_raw = make_key(shop, {ep.resource: "write"})
    response = send(client_with(own_raw, bearer=True), ep, world)
    assert response.status_code not in (401, 403) and response.status_code < 500, response.content[:300]


def test_ping_names_the_key_and_shop(shop, make_key):
    _, raw = make_key(shop, {"subscriptions": "none"})
    response = client_with(raw).get("/vendor/ping")
    assert response.status_code == 200
    assert response.json()["shop"] == shop.domain
