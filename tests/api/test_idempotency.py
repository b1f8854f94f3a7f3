"""`Idempotency-Key` on vendor writes: a retry replays the first answer and the action runs once;
the key is per API key and lives 24 hours."""

import datetime as dt

import pytest
import time_machine

from integrations.models import IdempotencyRecord
from subscriptions.models import ActivityLog, SkippedDate
from tests.api.endpoint_catalogue import assert_problem, client_with, make_world
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
START = dt.datetime(2030, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(shop):
    return make_world(shop)


def _skip_url(world):
    return f"/vendor/customer/{world.customer.pk}/purchase-state/{world.subscription.pk}/skip"


def _counts(world):
    return (
        ActivityLog.objects.filter(subscription=world.subscription).count(),
        OutboxEvent.objects.count(),
        SkippedDate.objects.filter(subscription=world.subscription).count(),
    )


def test_same_key_and_body_replays_the_first_answer_and_acts_once(api, world):
    before = _counts(world)

    first = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")
    second = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == 200, first.content
    assert not first.has_header("Idempotent-Replayed")
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
    assert ActivityLog.objects.filter(subscription=world.subscription, action="skipped").count() == 1
    assert _counts(world) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_replayed_error_is_the_same_error(api, world):
    url = f"/vendor/customer/{world.customer.pk}/purchase-state/{world.subscription.pk}/pause"
    api.put(url, {}, format="json")  # now PAUSED: pausing again is refused
    first = api.put(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="p-2")
    second = api.put(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="p-2")
    assert_problem(first, 409)
    assert_problem(second, 409)
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"


def test_same_key_with_a_different_body_is_422(api, world):
    url = f"/vendor/customer/{world.customer.pk}/purchase-state/{world.subscription.pk}/cancel"
    first = api.put(url, {"reason": "moving"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == 200
    before = _counts(world)

    other = api.put(url, {"reason": "too expensive"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert_problem(other, 422, "idempotency_key_reused")
    assert _counts(world) == before


def test_same_key_on_another_path_is_422(api, world):
    api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    url = f"/vendor/customer/{world.customer.pk}/purchase-state/{world.subscription.pk}/pause"
    assert_problem(api.put(url, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-4"), 422, "idempotency_key_reused")
    assert world.subscription.__class__.objects.get(pk=world.subscription.pk).status == "ACTIVE"


def test_keys_are_independent_per_api_key(api, shop, make_key, world):
    _, other_raw = make_key(shop)
    other = client_with(other_raw)

    first = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    second = other.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert first.status_code == 200
    assert not second.has_header("Idempotent-Replayed")
    assert second.status_code == 200  # ran for real: the next date is skipped too
    assert ActivityLog.objects.filter(subscription=world.subscription, action="skipped").count() == 2
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_records_older_than_24_hours_are_not_replayed(api, world):
    with time_machine.travel(START, tick=False):
        first = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
        assert first.status_code == 200
    with time_machine.travel(START + dt.timedelta(hours=23, minutes=59), tick=False):
        replay = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="old")
        assert replay["Idempotent-Replayed"] == "true"
    with time_machine.travel(START + dt.timedelta(hours=24, seconds=1), tick=False):
        fresh = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="old")

    assert fresh.status_code == 200
    assert not fresh.has_header("Idempotent-Replayed")
    assert ActivityLog.objects.filter(subscription=world.subscription, action="skipped").count() == 2


def test_without_the_header_every_request_acts(api, world):
    api.put(_skip_url(world), {}, format="json")
    api.put(_skip_url(world), {}, format="json")
    assert ActivityLog.objects.filter(subscription=world.subscription, action="skipped").count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_unauthenticated_requests_store_nothing(world):
    response = client_with("sk_nope.nope").put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="x")
    assert_problem(response, 401)
    assert not IdempotencyRecord.objects.exists()


def test_too_long_key_is_400(api, world):
    response = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert_problem(response, 400, "invalid_idempotency_key")
    assert not ActivityLog.objects.filter(subscription=world.subscription, action="skipped").exists()


def test_post_create_is_replayed_too(api, world):
    body = {
        "custRelId": world.customer.pk,
        "sellingPlanId": world.ids["plan"],
        "items": [{"variantId": world.ids["variant"], "quantity": 2}],
    }
    first = api.post("/vendor/purchase-state", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    second = api.post("/vendor/purchase-state", body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == 201, first.content
    assert second.status_code == 201 and second.json()["id"] == first.json()["id"]
    assert world.customer.subscriptions.count() == 2  # the world's one + exactly one created


class Killed(BaseException):
    """What a SIGKILLed web worker looks like from inside: the request never returns an answer."""


def test_a_request_killed_after_its_change_leaves_no_change_and_no_stuck_key(api, world, monkeypatch):
    from subscriptions import services

    real_skip = services.subscription_skip

    def skip_then_die(**kwargs):
        real_skip(**kwargs)  # the change is written...
        raise Killed  # ...and the process dies before the answer is recorded

    before = _counts(world)
    monkeypatch.setattr(services, "subscription_skip", skip_then_die)
    with pytest.raises(Killed):
        api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    assert _counts(world) == before  # nothing half-done survives the kill
    assert not IdempotencyRecord.objects.filter(key="killed-1").exists()

    monkeypatch.setattr(services, "subscription_skip", real_skip)
    retry = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    replay = api.put(_skip_url(world), {}, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")

    assert retry.status_code == 200, retry.content  # not 409 "still being processed" forever
    assert not retry.has_header("Idempotent-Replayed")
    assert replay["Idempotent-Replayed"] == "true" and replay.content == retry.content
    assert _counts(world) == (before[0] + 1, before[1] + 1, before[2] + 1)
