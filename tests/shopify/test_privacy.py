"""Shopify's mandatory privacy webhooks (customers/data_request, customers/redact, shop/redact):
signed like every webhook, and honoured."""

import pytest
from django.test import Client

from integrations.models import Integration
from shopify.models import PrivacyRequest
from subscriptions.models import Address, Customer, Order, Subscription
from tests import factories as f
from tests.shopify.conftest import DOMAIN
from tests.shopify.test_webhooks import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def rosa(shop):
    customer = f.CustomerFactory(
        shop=shop,
        email="rosa@example.com",
        first_name="Rosa",
        last_name="Diaz",
        phone="+15555550100",
        external_id="191167",
    )
    sub = f.SubscriptionFactory(customer=customer)
    f.OrderFactory(
        shop=shop,
        customer=customer,
        subscription=sub,
        shipping_address={"line1": "1 Main St", "city": "Albany"},
    )
    return customer


def redact_payload(customer_id=191167, email="rosa@example.com"):
    return {
        "shop_id": 954889,
        "shop_domain": DOMAIN,
        "customer": {"id": customer_id, "email": email, "phone": "555-625-1199"},
        "orders_to_redact": [299938, 280263],
    }


def test_customers_redact_erases_the_customer(store, shop, rosa, client):
    response = post(client, "customers/redact", redact_payload())
    assert response.status_code == 200

    rosa.refresh_from_db()
    assert (rosa.first_name, rosa.last_name, rosa.phone) == ("", "", "")
    assert "rosa" not in rosa.email
    assert Address.objects.get(customer=rosa).line1 == "erased"
    assert Order.objects.get(customer=rosa).shipping_address == {}
    assert Subscription.objects.get(customer=rosa).status == Subscription.Status.CANCELLED
    request = PrivacyRequest.objects.get(topic="customers/redact")
    assert request.customer == rosa and request.completed_at is not None


def test_customers_redact_matches_by_email_when_the_id_is_unknown(store, shop, rosa, client):
    Customer.objects.filter(pk=rosa.pk).update(external_id="")
    assert post(client, "customers/redact", redact_payload(customer_id=5)).status_code == 200
    rosa.refresh_from_db()
    assert rosa.first_name == ""


def test_customers_redact_leaves_other_shops_alone(store, shop, rosa, client):
    twin = f.CustomerFactory(email="rosa@example.com", first_name="Rosa", external_id="191167")
    assert post(client, "customers/redact", redact_payload()).status_code == 200
    twin.refresh_from_db()
    assert twin.first_name == "Rosa"


def test_customers_data_request_records_an_export(store, shop, rosa, client):
    payload = {**redact_payload(), "orders_requested": [299938], "data_request": {"id": 9999}}
    payload.pop("orders_to_redact")
    assert post(client, "customers/data_request", payload).status_code == 200

    request = PrivacyRequest.objects.get(topic="customers/data_request")
    assert request.data_request_id == "9999"
    assert request.export["customer"]["email"] == "rosa@example.com"
    assert len(request.export["subscriptions"]) == 1
    assert request.export["orders"][0]["shipping_address"]["line1"] == "1 Main St"
    rosa.refresh_from_db()
    assert rosa.first_name == "Rosa"  # nothing erased

    staff = Client()
    staff.force_login(f.StaffMembershipFactory(shop=shop).user)
    page = staff.get(f"/admin/shopify/privacyrequest/{request.pk}/change/").content.decode()
    assert "rosa@example.com" in page
    other_staff = Client()
    other_staff.force_login(f.StaffMembershipFactory().user)
    assert other_staff.get(f"/admin/shopify/privacyrequest/{request.pk}/change/").status_code == 404


def test_shop_redact_erases_every_customer_and_the_connection(store, shop, rosa, client):
    response = post(client, "shop/redact", {"shop_id": 954889, "shop_domain": DOMAIN})
    assert response.status_code == 200
    rosa.refresh_from_db()
    assert rosa.first_name == ""
    integration = Integration.objects.get(shop=shop, partner="shopify")
    assert integration.state == Integration.State.DISCONNECTED
    assert integration.credentials == {}


def test_shop_redact_still_works_after_the_store_was_disconnected(store, shop, rosa, client, settings):
    settings.SHOPIFY_APP_SECRET = "platform-secret"
    Integration.objects.filter(pk=store.pk).update(state=Integration.State.DISCONNECTED, credentials={})
    response = post(
        client, "shop/redact", {"shop_id": 954889, "shop_domain": DOMAIN}, secret="platform-secret"
    )
    assert response.status_code == 200
    rosa.refresh_from_db()
    assert rosa.first_name == ""


def test_privacy_webhooks_must_be_signed(store, shop, rosa, client):
    assert post(client, "customers/redact", redact_payload(), secret="wrong").status_code == 401
    assert post(client, "shop/redact", {"shop_domain": DOMAIN}, signature=False).status_code == 401
    rosa.refresh_from_db()
    assert rosa.first_name == "Rosa"
    assert not PrivacyRequest.objects.exists()
