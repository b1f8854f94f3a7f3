"""One page per customer: subscriptions, orders, activity, loyalty balance, deliveries about them."""

import pytest
from django.urls import reverse

from loyalty.models import CustomerBalance
from subscriptions.models import ActivityLog
from tests import factories as f
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def _delivery(
    shop, customer_id, *, kind="webhook", status=Delivery.Status.SUCCEEDED, type="subscription.skipped"
):
    event = f.OutboxEventFactory(shop_id=shop.pk, type=type)
    event.payload["data"] = {"customer": {"id": customer_id}}
    event.save(update_fields=["payload"])
    return Delivery.objects.create(
        event=event,
        shop_id=shop.pk,
        destination_kind=kind,
        destination_id="7",
        event_type=type,
        status=status,
        attempt_count=1,
    )


def test_everything_about_one_customer(support_client, shop):
    customer = f.CustomerFactory(shop=shop, email="ada@example.com", first_name="Ada")
    sub = f.SubscriptionFactory(customer=customer)
    order = f.OrderFactory(subscription=sub)
    f.ActivityLogFactory(shop=shop, customer=customer, subscription=sub, description="Changed the address")
    CustomerBalance.objects.create(shop=shop, customer=customer, points=350)
    _delivery(shop, customer.pk, kind="klaviyo", type="subscription.paused")
    _delivery(shop, customer.pk + 1000)  # about someone else
    someone = f.CustomerFactory(shop=shop)
    f.SubscriptionFactory(customer=someone)

    response = support_client.get(reverse("console:customer", args=[customer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "ada@example.com" in html
    assert [s.pk for s in response.context["subscriptions"]] == [sub.pk]
    assert [o.pk for o in response.context["orders"]] == [order.pk]
    assert "Changed the address" in html
    assert response.context["loyalty_balance"] == 350 and ">350<" in html
    assert [(d.destination_kind, d.event_type) for d in response.context["deliveries"]] == [
        ("klaviyo", "subscription.paused")
    ]
    assert "klaviyo:7" in html


def test_another_shops_customer_is_404(owner_client, other_shop):
    theirs = f.CustomerFactory(shop=other_shop)
    assert owner_client.get(reverse("console:customer", args=[theirs.pk])).status_code == 404
    assert owner_client.get(reverse("console:customer", args=[999999])).status_code == 404


def test_customer_change_page_links_to_the_overview(owner_client, shop):
    customer = f.CustomerFactory(shop=shop)
    html = owner_client.get(
        reverse("admin:subscriptions_customer_change", args=[customer.pk])
    ).content.decode()
    assert reverse("console:customer", args=[customer.pk]) in html


def test_staff_action_on_a_customer_is_in_the_activity_log(staff_client, shop):
    customer = f.CustomerFactory(shop=shop, email="ada@example.com")
    response = staff_client.post(
        reverse("admin:subscriptions_customer_change", args=[customer.pk]),
        {
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "King",
            "phone": "",
            "external_id": "",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
            "addresses-TOTAL_FORMS": "0",
            "addresses-INITIAL_FORMS": "0",
            "payment_methods-TOTAL_FORMS": "0",
            "payment_methods-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    entry = ActivityLog.objects.filter(customer=customer).latest("created_at")
    assert (entry.actor_type, entry.actor_name) == ("admin", "sam")
