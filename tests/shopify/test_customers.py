"""Customers from Shopify (`customer(id:)`), matched by Shopify id, then by email, never
duplicated: `POST /vendor/customer-relationship/import`."""

import pytest
from rest_framework.test import APIClient

from integrations.services import api_key_create
from shopify.customers import CUSTOMER_BY_ID
from subscriptions.models import Customer
from tests import factories as f
from tests.shopify.conftest import URL, answer, sent

pytestmark = pytest.mark.django_db
IMPORT = "/vendor/customer-relationship/import"


def shopify_customer(number=7001, email="rosa@example.com"):
    return answer(
        {
            "customer": {
                "id": f"gid://shopify/Customer/{number}",
                "legacyResourceId": str(number),
                "email": email,
                "firstName": "Rosa",
                "lastName": "Diaz",
                "phone": "+15555550100",
            }
        }
    )


@pytest.fixture
def api(shop):
    _, raw = api_key_create(shop=shop, token_nickname="helpdesk", permissions={"customers": "write"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    return client


def test_a_new_shopify_customer_is_created(store, shop, api, mocked, sleeps):
    mocked.post(URL, json=shopify_customer())
    response = api.post(IMPORT, {"shopifyCustomerId": "7001"}, format="json")

    assert response.status_code == 200, response.content
    assert sent(mocked.calls[0]) == {
        "query": CUSTOMER_BY_ID,
        "variables": {"id": "gid://shopify/Customer/7001"},
    }
    customer = Customer.objects.get(shop=shop)
    assert (customer.email, customer.first_name, customer.external_id) == ("rosa@example.com", "Rosa", "7001")
    assert response.json()["id"] == customer.pk


def test_the_same_email_is_linked_not_duplicated(store, shop, api, mocked, sleeps):
    mine = f.CustomerFactory(shop=shop, email="ROSA@example.com", first_name="Rosita")
    mocked.post(URL, json=shopify_customer())
    assert (
        api.post(IMPORT, {"shopifyCustomerId": "gid://shopify/Customer/7001"}, format="json").status_code
        == 200
    )
    mine.refresh_from_db()
    assert mine.external_id == "7001"
    assert mine.first_name == "Rosita"  # what the shop knows is kept
    assert Customer.objects.filter(shop=shop).count() == 1


def test_the_shopify_id_wins_over_the_email(store, shop, api, mocked, sleeps):
    linked = f.CustomerFactory(shop=shop, email="old@example.com", external_id="7001")
    f.CustomerFactory(shop=shop, email="rosa@example.com")
    mocked.post(URL, json=shopify_customer())
    assert api.post(IMPORT, {"shopifyCustomerId": "7001"}, format="json").json()["id"] == linked.pk
    assert Customer.objects.filter(shop=shop).count() == 2


def test_another_shops_customer_is_not_matched(store, shop, api, mocked, sleeps):
    f.CustomerFactory(email="rosa@example.com", external_id="7001")
    mocked.post(URL, json=shopify_customer())
    assert api.post(IMPORT, {"shopifyCustomerId": "7001"}, format="json").status_code == 200
    assert Customer.objects.filter(shop=shop).count() == 1


def test_bad_input_is_a_clear_4xx(store, shop, api, mocked, sleeps):
    missing = api.post(IMPORT, {}, format="json")
    assert missing.status_code == 400
    assert "shopifyCustomerId" in missing.content.decode()
    assert api.post(IMPORT, {"shopifyCustomerId": "abc"}, format="json").status_code == 404
    mocked.post(URL, json=answer({"customer": None}))
    assert api.post(IMPORT, {"shopifyCustomerId": "404404"}, format="json").status_code == 404
    assert not Customer.objects.exists()


def test_shopify_down_is_a_503_not_a_500(store, shop, api, mocked, sleeps):
    mocked.post(URL, status=503, json={"errors": "Service unavailable"})
    assert api.post(IMPORT, {"shopifyCustomerId": "7001"}, format="json").status_code == 503


def test_a_shop_without_a_store_is_told_so(shop, api, mocked):
    response = api.post(IMPORT, {"shopifyCustomerId": "7001"}, format="json")
    assert response.status_code == 422
    assert len(mocked.calls) == 0
