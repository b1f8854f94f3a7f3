"""Integrations > Recharge migration in the console: connect, dry run, progress, resume, tenancy."""

import pytest
from django.urls import reverse

from integrations.models import Integration
from migration.models import MigrationRun
from tests import factories as f
from tests.migration.conftest import TOKEN

pytestmark = pytest.mark.django_db
LIST = "admin:migration_migrationrun_changelist"


@pytest.fixture
def staff_client(client, shop):
    client.force_login(f.StaffMembershipFactory(shop=shop, user__username="alice").user)
    return client


def test_connect_shows_a_refused_key_next_to_the_field(staff_client, shop, fake, sleeps):
    response = staff_client.post(reverse("admin:migration_connect"), {"api_key": "rc_wrong"})
    assert response.status_code == 400
    errors = response.context["connect_form"].errors
    assert "refused the API key" in errors["api_key"][0]
    assert "rc_wrong" not in response.content.decode()  # never echoed back
    assert not Integration.objects.filter(shop=shop, partner="recharge").exists()


def test_connect_dry_run_and_watch_the_report(
    staff_client, shop, fake, sleeps, django_capture_on_commit_callbacks
):
    response = staff_client.post(reverse("admin:migration_connect"), {"api_key": TOKEN})
    assert response.status_code == 302
    page = staff_client.get(reverse(LIST)).content.decode()
    assert "Dry run" in page and "Import" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:migration_start", args=["dry_run"]))
    run = MigrationRun.objects.get(shop=shop)
    assert response.status_code == 302 and response.url == reverse(
        "admin:migration_migrationrun_change", args=[run.pk]
    )
    page = staff_client.get(response.url).content.decode()
    assert '<progress max="100" value="100"' in page
    assert "its address (Recharge id 303) is not imported" in page
    assert "processor &#x27;braintree&#x27; is not supported (only Stripe)" in page
    listing = staff_client.get(reverse(LIST)).content.decode()
    assert "subscriptions: 3 new, 4 cannot be mapped" in listing


def test_an_interrupted_import_shows_resume_and_carries_on(
    staff_client, shop, fake, sleeps, django_capture_on_commit_callbacks
):
    staff_client.post(reverse("admin:migration_connect"), {"api_key": TOKEN})
    fake.failing_pages[("addresses", 2)] = 3
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:migration_start", args=["import"]))
    page = staff_client.get(response.url).content.decode()
    run = MigrationRun.objects.get(shop=shop)
    assert run.status == "interrupted"
    assert "Resume" in page and 'http-equiv="refresh"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:migration_resume", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == "done" and run.count("subscriptions", "new") == 3


def test_another_shops_run_is_404(staff_client, shop):
    theirs = MigrationRun.objects.create(shop=f.ShopFactory(), mode="import", status="interrupted")
    assert (
        staff_client.get(reverse("admin:migration_migrationrun_change", args=[theirs.pk])).status_code == 404
    )
    assert staff_client.post(reverse("admin:migration_resume", args=[theirs.pk])).status_code == 404
    assert theirs.pk not in [r.pk for r in staff_client.get(reverse(LIST)).context["cl"].result_list]


def test_a_superuser_picks_the_shop(admin_client, shop, fake, sleeps):
    assert "Choose a shop first" in admin_client.get(reverse(LIST)).content.decode()
    response = admin_client.post(reverse("admin:migration_connect"), {"api_key": TOKEN, "shop": shop.pk})
    assert response.status_code == 302 and response.url.endswith(f"?shop={shop.pk}")
    assert admin_client.get(response.url).status_code == 200
    assert Integration.objects.get(shop=shop, partner="recharge").state == "connected"


def test_integrations_page_leads_to_the_recharge_migration(staff_client):
    page = staff_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert 'id="migration-recharge"' in page and reverse(LIST) in page
