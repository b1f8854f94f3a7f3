"""Tenancy across every vendor endpoint: another shop's object answers 404 and changes nothing;
lists never show another shop's rows. Endpoints come from the URL resolver (endpoint_catalogue),
so new ones are covered as soon as they are routed."""

import pytest

from subscriptions.models import ActivityLog
from tests import factories as f
from tests.api.endpoint_catalogue import (
    assert_problem,
    assert_unchanged,
    db_snapshot,
    endpoints,
    list_endpoints,
    make_world,
    send,
)
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

WITH_IDS = endpoints(with_ids=True)


@pytest.fixture
def mine(shop):
    return make_world(shop, tag="a")


@pytest.fixture
def theirs(db):
    return make_world(f.ShopFactory(), tag="b")


def _foreign_urls(ep, mine, theirs):
    """All ids from the other shop, then one id at a time from the other shop (my customer with
    their subscription, ...), each with the body its ids come from."""
    yield "all theirs", ep.url(theirs), ep.body(theirs)
    if len(ep.params) > 1:
        for param in ep.params:
            yield f"{param} theirs", ep.url(mine, **{param: theirs.ids[ep.kinds[param]]}), ep.body(mine)


@pytest.mark.parametrize("ep", WITH_IDS, ids=lambda ep: ep.id)
def test_other_shops_object_is_404_and_nothing_changes(api, mine, theirs, ep):
    before = db_snapshot()
    logs, events = ActivityLog.objects.count(), OutboxEvent.objects.count()

    for label, url, body in _foreign_urls(ep, mine, theirs):
        response = send(api, ep, mine, body=body, url=url)

        assert response.status_code == 404, (label, response.content[:300])
        assert_problem(response, 404, "not_found")
        assert theirs.marker not in response.content.decode().lower(), label

    assert ActivityLog.objects.count() == logs and OutboxEvent.objects.count() == events
    assert_unchanged(before, db_snapshot(), ep.id)
    # The control: the same request on my own objects is served (not a 404).
    response = send(api, ep, mine)
    assert response.status_code != 404, response.content[:300]


@pytest.mark.parametrize("ep", list_endpoints(), ids=lambda ep: ep.id)
def test_lists_show_only_my_shops_rows(api, mine, theirs, ep):
    response = send(api, ep, mine)

    # 200, or a clear 4xx where the operation has no meaning for this shop.
    assert response.status_code in (200, 422), response.content[:300]
    text = response.content.decode().lower()
    assert theirs.marker not in text  # no email, name, external id, SKU, code or URL of theirs


def test_formatted_lookup_by_other_shops_email_finds_nothing(api, mine, theirs):
    response = api.get("/vendor/order/formatted", {"filterLike[emailOrName]": theirs.customer.email})
    assert response.status_code == 200
    assert response.json() == {"data": []}


@pytest.mark.parametrize("ep", endpoints(write=True, with_ids=False), ids=lambda ep: ep.id)
def test_other_shops_ids_in_a_body_change_nothing(api, mine, theirs, ep):
    """Ids sent in a body (custRelId, sellingPlanId, variantId, purchaseStateIds, ...) are looked up
    in the caller's shop only."""
    body = ep.body(theirs)
    if body == ep.body(mine):
        pytest.skip("the sample body carries no ids")
    before = db_snapshot()

    response = send(api, ep, mine, body=body)

    assert response.status_code < 500
    assert theirs.marker not in response.content.decode().lower()
    assert_unchanged(before, db_snapshot(), ep.id)
    if response.status_code < 300:  # bulk actions answer per id
        assert all(not item["ok"] and item["code"] == "not_found" for item in response.json()["data"])
