"""Recharge migration against a local fake Recharge (documented 2021-11 wire format): connect,
dry run, import, idempotent re-run, rate limit, interruption and resume, no notifications."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from integrations.models import Integration
from migration import services
from migration.models import ExternalRecord, MigrationIssue, MigrationRun
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, Address, Customer, PaymentMethod, Subscription
from tests.migration.conftest import NOW, TOKEN
from webhooks.models import Delivery, OutboxEvent

pytestmark = pytest.mark.django_db

EXPECTED_COUNTS = {
    "customers": {"new": 3, "existing": 1, "unmappable": 1},
    "payment_methods": {"new": 2, "existing": 0, "unmappable": 2},
    "addresses": {"new": 3, "existing": 0, "unmappable": 1},
    "subscriptions": {"new": 3, "existing": 0, "unmappable": 4},
}


def _connect(shop):
    return services.recharge_connect(shop=shop, api_key=TOKEN)


def _run(shop, mode, capture):
    with capture(execute=True):
        run = services.migration_start(shop=shop, mode=mode)
    run.refresh_from_db()
    return run


def test_connect_checks_the_key_and_stores_it_encrypted(shop, fake, sleeps):
    integration = _connect(shop)
    assert integration.state == Integration.State.CONNECTED
    request = fake.requests[-1]
    assert request["path"] == "/customers" and request["query"] == {"limit": "1"}
    assert request["headers"]["X-Recharge-Access-Token"] == TOKEN
    assert request["headers"]["X-Recharge-Version"] == "2021-11"
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored
    assert Integration.objects.get(pk=integration.pk).credentials == {"api_key": TOKEN}


def test_a_refused_key_is_an_error_on_the_key_and_saves_nothing(shop, fake, sleeps):
    with pytest.raises(DomainError) as refused:
        services.recharge_connect(shop=shop, api_key="rc_wrong")
    assert refused.value.field == "api_key"
    assert "refused the API key" in refused.value.message
    assert not Integration.objects.filter(shop=shop, partner="recharge").exists()


def test_nothing_runs_before_connecting(shop):
    with pytest.raises(DomainError) as refused:
        services.migration_start(shop=shop, mode="dry_run")
    assert refused.value.code == "not_connected"


def test_dry_run_counts_and_explains_every_unmappable_record_and_writes_nothing(
    shop, fake, sleeps, django_capture_on_commit_callbacks
):
    _connect(shop)
    customers_before = Customer.objects.count()
    run = _run(shop, "dry_run", django_capture_on_commit_callbacks)
    assert run.status == MigrationRun.Status.DONE
    assert run.counts == EXPECTED_COUNTS
    reasons = {(i.resource, i.external_id): i.reason for i in run.issues.all()}
    assert reasons == {
        ("customers", "103"): "no email address",
        ("payment_methods", "203"): "processor 'braintree' is not supported (only Stripe)",
        ("payment_methods", "204"): "its customer (Recharge id 103) is not imported",
        ("addresses", "303"): "missing city",
        ("subscriptions", "404"): "no active plan delivering every 3 days; add one to a subscription program",
        ("subscriptions", "405"): "no product variant here with id 9999 or SKU GONE-1 (House blend); "
        "add it to the catalogue",
        ("subscriptions", "406"): "its address (Recharge id 303) is not imported",
        ("subscriptions", "407"): "next charge date 2025-01-10 is not in the future; it would be charged "
        "at once — let Recharge charge it, then run again",
    }
    assert Customer.objects.count() == customers_before
    assert not Subscription.objects.exists() and not ExternalRecord.objects.exists()


def test_import_brings_everything_over_without_a_single_notification(
    shop, fake, sleeps, django_capture_on_commit_callbacks
):
    _connect(shop)
    fake.requests.clear()  # count the run's requests only
    fake.scripted = {3: (429, {"Retry-After": "2"}), 7: (429, {"Retry-After": "1"})}
    run = _run(shop, "import", django_capture_on_commit_callbacks)
    assert run.status == MigrationRun.Status.DONE, run.error
    assert run.counts == EXPECTED_COUNTS
    assert run.issues.count() == 8
    assert sleeps == [2.0, 1.0]  # Retry-After honoured, then the same page asked again
    # Pages followed by cursor, with `limit` only beside the cursor.
    assert fake.pages_read("customers") == [0, 2, 4]
    assert all(set(r["query"]) <= {"limit", "cursor"} for r in fake.requests)

    ada = Customer.objects.get(shop=shop, email="ada@example.com")
    assert (ada.first_name, ada.external_id, ada.stripe_customer_id) == ("Ada", "6001", "cus_ada")
    method = PaymentMethod.objects.get(customer=ada)
    assert (method.gateway, method.token, method.last4) == ("stripe", "cus_ada:pm_ada", "4242")
    home = Address.objects.get(customer=ada)
    assert (home.line1, home.city, home.postal_code, home.country) == ("1 Main St", "Brooklyn", "11201", "US")

    monthly = Subscription.objects.get(external_id="recharge:401")
    assert monthly.status == Subscription.Status.ACTIVE
    assert (monthly.plan.interval_unit, monthly.plan.interval_count) == ("month", 1)
    assert monthly.next_billing_date == dt.date(2025, 2, 10)
    assert [(line.variant.sku, line.quantity, line.unit_price) for line in monthly.lines.all()] == [
        ("COFFEE-1", 2, Decimal("18.00"))  # Recharge's price, not the catalogue's 20.00
    ]
    assert monthly.payment_method == method and monthly.shipping_address == home
    assert monthly.created_at == dt.datetime(2024, 3, 4, 9, 30, tzinfo=dt.UTC)

    prepaid = Subscription.objects.get(external_id="recharge:402")
    assert (prepaid.plan.interval_unit, prepaid.plan.interval_count) == ("week", 2)
    assert prepaid.lines.get().unit_price == Decimal("9.50")
    assert ExternalRecord.objects.get(resource="subscriptions", external_id="402").details == {
        "prepaid": True,
        "charge_interval_frequency": 6,
        "order_interval_frequency": 2,
    }
    assert ExternalRecord.objects.get(resource="subscriptions", external_id="401").details["prepaid"] is False
    cancelled = Subscription.objects.get(external_id="recharge:403")
    assert cancelled.status == Subscription.Status.CANCELLED
    assert cancelled.cancel_reason == "Too much coffee" and cancelled.next_billing_date is None

    # Carol already shopped here: linked by email, not duplicated.
    assert Customer.objects.filter(shop=shop, email="carol@example.com").count() == 1
    # No subscription.created, no webhook, no partner message: nobody is told anything.
    assert not OutboxEvent.objects.exists() and not Delivery.objects.exists()
    entry = ActivityLog.objects.get(subscription=monthly, action="imported")
    assert entry.actor == "integration:recharge"


def test_importing_again_creates_nothing_new(shop, fake, sleeps, django_capture_on_commit_callbacks):
    _connect(shop)
    _run(shop, "import", django_capture_on_commit_callbacks)
    rows = (Customer.objects.count(), Address.objects.count(), PaymentMethod.objects.count())
    again = _run(shop, "import", django_capture_on_commit_callbacks)
    assert again.status == MigrationRun.Status.DONE
    assert {r: c["new"] for r, c in again.counts.items()} == dict.fromkeys(EXPECTED_COUNTS, 0)
    assert again.counts["subscriptions"]["existing"] == 3
    assert (Customer.objects.count(), Address.objects.count(), PaymentMethod.objects.count()) == rows
    assert Subscription.objects.count() == 3
    # A dry run after the import says the same: everything mappable is already here.
    dry = _run(shop, "dry_run", django_capture_on_commit_callbacks)
    assert dry.counts["subscriptions"] == {"new": 0, "existing": 3, "unmappable": 4}


def test_an_interrupted_import_resumes_from_its_checkpoint(
    shop, fake, sleeps, django_capture_on_commit_callbacks
):
    _connect(shop)
    fake.failing_pages[("subscriptions", 2)] = 3  # the first try and both retries fail
    run = _run(shop, "import", django_capture_on_commit_callbacks)
    assert run.status == MigrationRun.Status.INTERRUPTED
    assert "500" in run.error
    assert run.checkpoint["customers"] == "done" and run.checkpoint["subscriptions"] not in (None, "done")
    assert Subscription.objects.count() == 2  # the first page of subscriptions is in
    assert run.progress_percent < 100

    before = len(fake.requests)
    with django_capture_on_commit_callbacks(execute=True):
        services.migration_resume(run=run)
    run.refresh_from_db()
    assert run.status == MigrationRun.Status.DONE
    resumed = fake.requests[before:]
    assert resumed[0]["resource"] == "subscriptions" and resumed[0]["offset"] == 2
    assert {r["resource"] for r in resumed} == {"subscriptions"}
    assert run.counts == EXPECTED_COUNTS
    assert Subscription.objects.count() == 3
    assert MigrationIssue.objects.filter(run=run).count() == 8
    assert not OutboxEvent.objects.exists()


def test_a_key_revoked_mid_run_interrupts_and_needs_attention(
    shop, fake, sleeps, django_capture_on_commit_callbacks
):
    _connect(shop)
    fake.requests.clear()
    fake.scripted = {2: (401, {})}
    run = _run(shop, "import", django_capture_on_commit_callbacks)
    assert run.status == MigrationRun.Status.INTERRUPTED
    assert "refused the API key" in run.error
    assert Integration.objects.get(shop=shop, partner="recharge").state == Integration.State.NEEDS_ATTENTION


def test_one_run_at_a_time(shop, fake, sleeps):
    _connect(shop)
    services.migration_start(shop=shop, mode="dry_run")  # queued: its task runs after commit
    with pytest.raises(DomainError) as refused:
        services.migration_start(shop=shop, mode="import")
    assert refused.value.code == "run_in_progress"


def test_a_run_whose_worker_was_lost_can_be_resumed(
    shop, fake, sleeps, time_machine, django_capture_on_commit_callbacks
):
    _connect(shop)
    fake.requests.clear()
    run = MigrationRun.objects.create(
        shop=shop, mode="import", status="running", checkpoint={"customers": "done"}
    )
    with pytest.raises(DomainError) as refused:
        services.migration_resume(run=run)  # still going as far as anyone can tell
    assert refused.value.code == "not_interrupted"
    time_machine.move_to(NOW + dt.timedelta(minutes=20), tick=True)
    with pytest.raises(DomainError) as refused:
        services.migration_start(shop=shop, mode="import")
    assert "it stalled: resume it" in refused.value.message
    with django_capture_on_commit_callbacks(execute=True):
        services.migration_resume(run=run)
    run.refresh_from_db()
    assert run.status == "done"
    assert fake.pages_read("customers") == []  # its checkpoint said customers were done
    assert run.count("subscriptions", "unmappable") == 7  # no customer was imported: none attach


def test_an_unexpected_failure_interrupts_without_losing_the_page(
    shop, fake, sleeps, monkeypatch, django_capture_on_commit_callbacks
):
    _connect(shop)
    real = services.HANDLERS["addresses"]

    def broken(ctx, record):
        if record["id"] == 304:
            raise RuntimeError("boom")
        return real(ctx, record)

    monkeypatch.setitem(services.HANDLERS, "addresses", broken)
    run = _run(shop, "import", django_capture_on_commit_callbacks)
    assert run.status == MigrationRun.Status.INTERRUPTED and "RuntimeError" in run.error
    assert Address.objects.count() == 2  # page one (301, 302); the failed page (303, 304) left nothing
    monkeypatch.setitem(services.HANDLERS, "addresses", real)
    with django_capture_on_commit_callbacks(execute=True):
        services.migration_resume(run=run)
    run.refresh_from_db()
    assert run.status == MigrationRun.Status.DONE and run.counts == EXPECTED_COUNTS
