"""The console's Shopify pages: connecting starts the catalogue import, "Import catalogue now",
and the import log scoped to the staff member's shop."""

import pytest
from django.test import Client

from integrations.services import integration_connect
from shopify.models import CatalogueImport
from subscriptions.models import Product
from tests import factories as f
from tests.shopify.conftest import DOMAIN, TOKEN, URL, answer, connect
from tests.shopify.test_catalogue import page, product_node, variant_node

pytestmark = pytest.mark.django_db
IMPORTS = "/admin/shopify/catalogueimport/"


@pytest.fixture
def staff(shop):
    client = Client()
    client.force_login(f.StaffMembershipFactory(shop=shop).user)
    return client


def test_connecting_a_store_imports_its_catalogue(shop, mocked, sleeps, django_capture_on_commit_callbacks):
    mocked.post(URL, json=answer({"shop": {"name": "Demo Shop"}}))
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    with django_capture_on_commit_callbacks(execute=True):
        integration_connect(
            shop=shop, partner_key="shopify", credentials={"shop_domain": DOMAIN, "access_token": TOKEN}
        )
    assert Product.objects.get(shop=shop).title == "House Blend"
    assert CatalogueImport.objects.get(shop=shop).state == CatalogueImport.State.DONE


def test_import_now_runs_an_import_and_the_log_shows_it(
    store, shop, staff, mocked, sleeps, django_capture_on_commit_callbacks
):
    mocked.post(URL, json=page([product_node(1, "House Blend", [variant_node(11, sku="HB-250")])]))
    response = staff.post(f"{IMPORTS}start/", follow=True)
    assert "import has started" in response.content.decode()
    assert Product.objects.filter(shop=shop).count() == 1
    listing = staff.get(IMPORTS).content.decode()
    assert "Done" in listing


def test_import_now_without_a_store_says_connect_first(shop, staff, mocked):
    response = staff.post(f"{IMPORTS}start/", follow=True)
    assert "Connect your Shopify store first" in response.content.decode()
    assert not CatalogueImport.objects.exists()
    assert len(mocked.calls) == 0


def test_staff_see_only_their_shops_imports(store, shop, staff, mocked):
    mine = CatalogueImport.objects.create(shop=shop, products=3)
    theirs = CatalogueImport.objects.create(shop=f.ShopFactory(), products=4)
    assert staff.get(f"{IMPORTS}{mine.pk}/change/").status_code == 200
    assert staff.get(f"{IMPORTS}{theirs.pk}/change/").status_code == 404


def test_a_shop_may_connect_its_own_store_besides_another_shops(shop, mocked):
    connect(shop, mocked)
    other = f.ShopFactory()
    integration = connect(other, mocked, domain="other-shop.myshopify.com")
    assert integration.config["shop_domain"] == "other-shop.myshopify.com"
