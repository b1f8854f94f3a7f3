"""Per-key fixed-window rate limit in the shared cache: 429 with Retry-After and a problem body."""

import datetime as dt

import pytest
import time_machine

from tests.api.endpoint_catalogue import assert_problem, client_with

pytestmark = pytest.mark.django_db
# 10 s into a 60 s window, so the window has 50 s left.
START = dt.datetime(2030, 5, 6, 7, 8, 10, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.VENDOR_API_RATE_LIMIT = 3
    settings.VENDOR_API_RATE_WINDOW = 60


def test_fourth_request_in_the_window_is_429_with_retry_after(api):
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            assert api.get("/vendor/purchase-state").status_code == 200
        limited = api.get("/vendor/purchase-state")

    body = assert_problem(limited, 429, "rate_limited")
    assert limited["Retry-After"] == "50"
    assert "50" in body["detail"]


def test_writes_and_reads_share_the_budget_and_429_changes_nothing(api, shop):
    from tests import factories as f

    subscription = f.SubscriptionFactory(customer=f.CustomerFactory(shop=shop))
    url = f"/vendor/customer/{subscription.customer_id}/purchase-state/{subscription.pk}/pause"
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            api.get("/vendor/purchase-state")
        limited = api.put(url, {}, format="json")

    assert_problem(limited, 429, "rate_limited")
    subscription.refresh_from_db()
    assert subscription.status == "ACTIVE"


def test_another_key_is_unaffected(api, shop, make_key):
    _, other_raw = make_key(shop)
    other = client_with(other_raw, bearer=True)
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            api.get("/vendor/purchase-state")
        assert api.get("/vendor/purchase-state").status_code == 429
        for _ in range(3):
            assert other.get("/vendor/purchase-state").status_code == 200


def test_the_next_window_is_allowed_again(api):
    with time_machine.travel(START, tick=False):
        for _ in range(4):
            api.get("/vendor/purchase-state")
        assert api.get("/vendor/purchase-state").status_code == 429
    with time_machine.travel(START + dt.timedelta(seconds=50), tick=False):
        assert api.get("/vendor/purchase-state").status_code == 200


def test_a_retried_write_with_idempotency_key_is_not_replayed_as_429(api, shop):
    """A 429 is not an answer worth replaying: after the window the retry really runs."""
    from tests import factories as f

    subscription = f.SubscriptionFactory(customer=f.CustomerFactory(shop=shop))
    url = f"/vendor/customer/{subscription.customer_id}/purchase-state/{subscription.pk}/pause"
    with time_machine.travel(START, tick=False):
        for _ in range(3):
            api.get("/vendor/purchase-state")
        assert api.put(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry").status_code == 429
    with time_machine.travel(START + dt.timedelta(seconds=60), tick=False):
        retried = api.put(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="retry")
    assert retried.status_code == 200 and not retried.has_header("Idempotent-Replayed")
