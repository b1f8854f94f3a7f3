"""Bulk operations from the Subscriptions changelist: background jobs through the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from console.bulk import bulk_job_run
from console.models import BulkJob
from subscriptions.models import ActivityLog, SkippedDate, Subscription
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:subscriptions_subscription_changelist"


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Post a bulk action with its form; the job runs (eagerly) once the request commits."""

    def post(client, action, ids, *, query="", **fields):
        data = {"action": action, "_selected_action": ids, "index": "0", "_submit": "1", **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse(CHANGELIST) + query, data)

    return post


def test_skip_reports_each_failure_with_its_reason_and_emits_events(owner_client, shop, run):
    active = f.SubscriptionFactory(shop=shop)
    cancelled = f.SubscriptionFactory(shop=shop, status=Subscription.Status.CANCELLED)
    response = run(owner_client, "bulk_skip", [active.pk, cancelled.pk])
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("console:bulk_job", args=[job.pk])
    assert (job.status, job.total, job.processed, job.succeeded, job.failed) == ("done", 2, 2, 1, 1)
    assert job.failures == [
        {"subscription_id": cancelled.pk, "reason": "Cannot skip an order: the subscription is CANCELLED."}
    ]
    assert SkippedDate.objects.filter(subscription=active).exists()
    assert OutboxEvent.objects.filter(type="subscription.skipped").count() == 1
    assert ActivityLog.objects.get(action="skipped").actor_name == "olivia"

    page = owner_client.get(response["Location"])
    html = page.content.decode()
    assert "2 of 2 done (100%): 1 changed, 1 could not be changed." in html
    assert "Cannot skip an order: the subscription is CANCELLED." in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing


def test_pause_then_resume_through_the_services(staff_client, shop, run):
    subs = f.SubscriptionFactory.create_batch(2, shop=shop)
    ids = [s.pk for s in subs]
    run(staff_client, "bulk_pause", ids)
    assert set(Subscription.objects.values_list("status", flat=True)) == {"PAUSED"}
    run(staff_client, "bulk_resume", ids)
    assert set(Subscription.objects.values_list("status", flat=True)) == {"ACTIVE"}
    assert OutboxEvent.objects.filter(type="subscription.paused").count() == 2
    assert OutboxEvent.objects.filter(type="subscription.activated").count() == 2


def test_cancel_asks_for_a_reason_first(owner_client, shop, run):
    subs = f.SubscriptionFactory.create_batch(2, shop=shop)
    ids = [s.pk for s in subs]
    response = owner_client.post(reverse(CHANGELIST), {"action": "bulk_cancel", "_selected_action": ids})
    assert response.status_code == 200 and "reason" in response.context["form"].fields
    assert not BulkJob.objects.exists()
    run(owner_client, "bulk_cancel", ids, reason="Store closing")
    assert set(Subscription.objects.values_list("cancel_reason", flat=True)) == {"Store closing"}
    assert OutboxEvent.objects.filter(type="subscription.canceled").count() == 2


def test_change_next_billing_date(owner_client, shop, run):
    sub = f.SubscriptionFactory(shop=shop)
    response = run(owner_client, "bulk_set_next_billing_date", [sub.pk], date="2025-01-10")
    assert response.status_code == 200 and "date" in response.context["form"].errors
    assert not BulkJob.objects.exists()
    run(owner_client, "bulk_set_next_billing_date", [sub.pk], date="2025-03-01")
    sub.refresh_from_db()
    assert sub.next_billing_date == dt.date(2025, 3, 1)
    assert OutboxEvent.objects.filter(type="subscription.next_order_date_changed").count() == 1


def test_swap_a_variant_for_another(owner_client, shop, run):
    old, new = (
        f.VariantFactory(shop=shop, price=Decimal("20.00")),
        f.VariantFactory(shop=shop, price=Decimal("30.00")),
    )
    with_old = f.SubscriptionFactory(shop=shop, lines=[old])
    without = f.SubscriptionFactory(shop=shop)
    run(owner_client, "bulk_swap_variant", [with_old.pk, without.pk], from_variant=old.pk, to_variant=new.pk)
    job = BulkJob.objects.get()
    assert (job.succeeded, job.failed) == (1, 1)
    assert job.failures[0]["subscription_id"] == without.pk and old.sku in job.failures[0]["reason"]
    line = with_old.lines.get()
    assert (line.variant, line.unit_price) == (new, Decimal("30.00"))
    assert ActivityLog.objects.filter(action="variant_swapped", subscription=with_old).exists()


def test_change_a_variants_price(owner_client, shop, run):
    variant = f.VariantFactory(shop=shop)
    subs = f.SubscriptionFactory.create_batch(2, shop=shop, lines=[variant])
    response = run(owner_client, "bulk_change_price", [s.pk for s in subs], variant=variant.pk, price="-1")
    assert response.status_code == 200 and "price" in response.context["form"].errors
    run(owner_client, "bulk_change_price", [s.pk for s in subs], variant=variant.pk, price="17.25")
    for sub in subs:
        assert sub.lines.get().unit_price == Decimal("17.25")
    assert ActivityLog.objects.filter(action="price_changed").count() == 2
    variant.refresh_from_db()
    assert variant.price == Decimal("20.00")  # the catalogue price is not touched


def test_variant_of_another_shop_is_not_a_choice(owner_client, shop, other_shop, run):
    sub = f.SubscriptionFactory(shop=shop)
    theirs = f.VariantFactory(shop=other_shop)
    response = run(owner_client, "bulk_change_price", [sub.pk], variant=theirs.pk, price="1.00")
    assert response.status_code == 200 and "variant" in response.context["form"].errors
    assert not BulkJob.objects.exists()


def test_all_filtered_rows_when_select_across(owner_client, shop, run):
    paused = f.SubscriptionFactory.create_batch(3, shop=shop, status=Subscription.Status.PAUSED)
    active = f.SubscriptionFactory(shop=shop)
    run(owner_client, "bulk_resume", [paused[0].pk], query="?status__exact=PAUSED", select_across="1")
    job = BulkJob.objects.get()
    assert sorted(job.subscription_ids) == sorted(s.pk for s in paused)
    assert active.pk not in job.subscription_ids
    assert set(Subscription.objects.values_list("status", flat=True)) == {"ACTIVE"}


def test_another_shops_ids_are_ignored(owner_client, shop, other_shop, run):
    theirs = f.SubscriptionFactory(shop=other_shop)
    run(owner_client, "bulk_pause", [theirs.pk])
    theirs.refresh_from_db()
    assert theirs.status == Subscription.Status.ACTIVE
    assert not BulkJob.objects.exists()


def test_another_shops_job_is_404(owner_client, other_shop):
    job = BulkJob.objects.create(shop=other_shop, operation="skip", subscription_ids=[1], total=1)
    assert owner_client.get(reverse("console:bulk_job", args=[job.pk])).status_code == 404


def test_running_job_page_refreshes(owner_client, shop):
    job = BulkJob.objects.create(shop=shop, operation="skip", subscription_ids=[1, 2], total=2, processed=1)
    html = owner_client.get(reverse("console:bulk_job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in html and "1 of 2 done (50%)" in html


def test_support_cannot_run_bulk_operations(support_client, shop, run):
    sub = f.SubscriptionFactory(shop=shop)
    page = support_client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no bulk action offered
    run(support_client, "bulk_pause", [sub.pk])
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    assert not BulkJob.objects.exists()
    job = BulkJob.objects.create(shop=shop, operation="skip", subscription_ids=[sub.pk], total=1)
    assert support_client.get(reverse("console:bulk_job", args=[job.pk])).status_code == 403


def test_a_job_lost_by_a_worker_goes_on_where_it_stopped(shop, owner):
    subs = f.SubscriptionFactory.create_batch(3, shop=shop)
    job = BulkJob.objects.create(
        shop=shop,
        operation="pause",
        actor_name="olivia",
        subscription_ids=[s.pk for s in subs],
        total=3,
        processed=1,
        succeeded=1,
        status="running",
    )
    bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed, job.succeeded) == ("done", 3, 3)
    statuses = list(Subscription.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["ACTIVE", "PAUSED", "PAUSED"]  # the first one was done before the loss
    bulk_job_run(job_id=job.pk)  # done: running it again changes nothing
    assert ActivityLog.objects.filter(action="paused").count() == 2


def test_starting_a_job_is_in_the_activity_log(owner_client, shop, run):
    sub = f.SubscriptionFactory(shop=shop)
    run(owner_client, "bulk_skip", [sub.pk])
    entry = ActivityLog.objects.get(action="bulk_operation_started")
    assert entry.actor_type == "admin" and entry.actor_name == "olivia" and entry.shop == shop
