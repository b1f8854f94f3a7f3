"""Streaming CSV export of customers, subscriptions and orders, with the changelist's filters."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from subscriptions.models import ActivityLog, Subscription
from tests import factories as f

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_subscriptions_export_honours_filters_and_search(owner_client, shop, other_shop):
    ada = f.CustomerFactory(shop=shop, email="ada@example.com", first_name="Ada")
    active = f.SubscriptionFactory(customer=ada)
    f.SubscriptionFactory(shop=shop, status=Subscription.Status.PAUSED)
    f.SubscriptionFactory(shop=other_shop)
    url = reverse("console:export", args=["subscriptions"])

    response = owner_client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert len(rows_of(response)) == 2  # both of this shop, none of the other

    only_active = rows_of(owner_client.get(url, {"status__exact": "ACTIVE"}))
    assert [r["id"] for r in only_active] == [str(active.pk)]
    row = only_active[0]
    assert row["email"] == "ada@example.com" and row["status"] == "ACTIVE"
    assert (
        row["plan_id"] == str(active.plan_id)
        and row["next_billing_date"] == active.next_billing_date.isoformat()
    )
    assert row["created_at"].endswith("-05:00")  # shop-local time (New York, winter)

    searched = rows_of(owner_client.get(url, {"q": "ada@example.com"}))
    assert [r["id"] for r in searched] == [str(active.pk)]


def test_sorted_list_exports_too(owner_client, shop):
    f.CustomerFactory(shop=shop)
    response = owner_client.get(reverse("console:export", args=["customers"]), {"o": "5"})  # "subscriptions"
    assert response.status_code == 200 and len(rows_of(response)) == 1


def test_customers_and_orders_exports(owner_client, shop, other_shop):
    order = f.OrderFactory(shop=shop)
    f.OrderFactory(shop=other_shop)
    customers = rows_of(owner_client.get(reverse("console:export", args=["customers"])))
    assert [r["email"] for r in customers] == [order.customer.email]
    orders = rows_of(owner_client.get(reverse("console:export", args=["orders"]), {"status__exact": "paid"}))
    assert [(r["id"], r["total"], r["currency"]) for r in orders] == [(str(order.pk), "20.00", "USD")]


def test_bad_filter_is_a_400_and_unknown_kind_a_404(owner_client):
    response = owner_client.get(
        reverse("console:export", args=["subscriptions"]), {"next_billing_date__gte": "soon"}
    )
    assert response.status_code == 400 and b"filters" in response.content
    assert owner_client.get(reverse("console:export", args=["shops"])).status_code == 404


def test_export_is_in_the_activity_log(owner_client, shop):
    rows_of(owner_client.get(reverse("console:export", args=["customers"])))
    entry = ActivityLog.objects.get(action="exported")
    assert (entry.shop, entry.actor_type, entry.actor_name) == (shop, "admin", "olivia")


def test_changelist_links_to_its_filtered_export(owner_client):
    html = owner_client.get(
        reverse("admin:subscriptions_subscription_changelist"), {"status__exact": "ACTIVE"}
    ).content.decode()
    assert reverse("console:export", args=["subscriptions"]) + "?status__exact=ACTIVE" in html
    assert reverse("console:import") in html


def test_support_may_not_export(support_client):
    assert support_client.get(reverse("console:export", args=["customers"])).status_code == 403
    html = support_client.get(reverse("admin:subscriptions_customer_changelist")).content.decode()
    assert "Export CSV" not in html


def test_staff_may_export(staff_client):
    assert staff_client.get(reverse("console:export", args=["orders"])).status_code == 200
