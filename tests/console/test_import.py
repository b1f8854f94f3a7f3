"""CSV import of subscriptions: preview with row errors, nothing written until confirmed."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from console.models import SubscriptionImport
from subscriptions.models import ActivityLog, Customer, Subscription
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
HEADER = "email,first_name,last_name,plan_id,sku,quantity,next_billing_date\n"


@pytest.fixture
def catalogue(shop):
    plan = f.PlanFactory(shop=shop)
    variant = f.VariantFactory(shop=shop, sku="BEANS-1")
    return plan, variant


def upload(client, text: str, name="subs.csv"):
    return client.post(reverse("console:import"), {"file": SimpleUploadedFile(name, text.encode())})


def test_preview_then_confirm_creates_the_subscriptions(owner_client, shop, catalogue):
    plan, variant = catalogue
    existing = f.CustomerFactory(shop=shop, email="bo@example.com")
    text = HEADER + (
        f"ada@example.com,Ada,Lovelace,{plan.pk},BEANS-1,2,2025-02-01\nBO@example.com,,,{plan.pk},BEANS-1,,\n"
    )
    response = upload(owner_client, text)
    imported = SubscriptionImport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "console:import_preview", args=[imported.pk]
    )
    assert not Subscription.objects.exists() and Customer.objects.count() == 1  # nothing written yet

    preview = owner_client.get(response["Location"])
    html = preview.content.decode()
    assert "2 row(s), 0 with errors." in html and "ada@example.com (new)" in html
    assert not Subscription.objects.exists()

    owner_client.post(response["Location"])
    subs = Subscription.objects.order_by("pk")
    assert [(s.customer.email, s.lines.get().quantity) for s in subs] == [
        ("ada@example.com", 2),
        ("bo@example.com", 1),
    ]
    assert subs[0].next_billing_date == dt.date(2025, 2, 1)
    assert subs[1].customer == existing
    assert OutboxEvent.objects.filter(type="subscription.created").count() == 2
    imported.refresh_from_db()
    assert (imported.status, imported.created_count) == ("applied", 2)
    assert ActivityLog.objects.filter(action="subscriptions_imported", actor_name="olivia").exists()

    again = owner_client.post(response["Location"])  # applying twice creates nothing more
    assert again.status_code == 200 and Subscription.objects.count() == 2


def test_each_bad_row_is_reported_and_nothing_is_created(owner_client, shop, other_shop, catalogue):
    plan, _ = catalogue
    theirs = f.PlanFactory(shop=other_shop)
    text = HEADER + (
        f"ok@example.com,,,{plan.pk},BEANS-1,1,2025-02-01\n"
        f"not-an-email,,,{plan.pk},BEANS-1,1,\n"
        f"x@example.com,,,{theirs.pk},NOPE,0,2025-01-10\n"
        f"y@example.com,,,{plan.pk},BEANS-1,two,01/02/2025\n"
    )
    response = upload(owner_client, text)
    preview = owner_client.get(response["Location"])
    rows = preview.context["rows"]
    assert [r.number for r in rows if r.errors] == [3, 4, 5]
    errors = {r.number: r.errors for r in rows}
    assert errors[3] == ["email: 'not-an-email' is not an email address"]
    assert any(e.startswith("plan_id:") for e in errors[4]) and any(e.startswith("sku:") for e in errors[4])
    assert any(e.startswith("quantity:") for e in errors[4]) and any(
        e.startswith("next_billing_date:") for e in errors[4]
    )
    assert any(e.startswith("quantity:") for e in errors[5]) and any(
        e.startswith("next_billing_date:") for e in errors[5]
    )
    assert preview.context["can_apply"] is False
    assert "3 with errors" in preview.content.decode()

    owner_client.post(response["Location"])  # confirming anyway changes nothing
    assert not Subscription.objects.exists() and not Customer.objects.exists()
    assert SubscriptionImport.objects.get().status == "uploaded"


def test_unusable_files_are_a_400_naming_the_file(owner_client, catalogue):
    for text in ("", "name,colour\nx,y\n", "email,plan_id,sku\n"):
        response = upload(owner_client, text)
        assert response.status_code == 400
        assert response.context["form"].errors["file"]
    response = owner_client.post(
        reverse("console:import"), {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00bad")}
    )
    assert response.status_code == 400 and "UTF-8" in str(response.context["form"].errors["file"])
    assert owner_client.post(reverse("console:import"), {}).status_code == 400
    assert not SubscriptionImport.objects.exists()


def test_another_shops_import_is_404(owner_client, other_shop):
    theirs = SubscriptionImport.objects.create(shop=other_shop, content=HEADER)
    url = reverse("console:import_preview", args=[theirs.pk])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code == 404


def test_support_may_not_import(support_client, shop, catalogue):
    assert support_client.get(reverse("console:import")).status_code == 403
    assert upload(support_client, HEADER).status_code == 403
    mine = SubscriptionImport.objects.create(shop=shop, content=HEADER)
    assert support_client.post(reverse("console:import_preview", args=[mine.pk])).status_code == 403
