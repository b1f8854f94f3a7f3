import pytest

from tests.factories import CustomerFactory, ShopFactory, SubscriptionFactory


@pytest.fixture
def shop():
    return ShopFactory(domain="portal-shop.example", name="Portal Shop", date_format="%d/%m/%Y")


@pytest.fixture
def customer(shop):
    return CustomerFactory(shop=shop, email="ada@example.com")


@pytest.fixture
def sub(customer):
    return SubscriptionFactory(customer=customer)


@pytest.fixture
def signed_in(client, customer):
    session = client.session
    session["portal_customer_id"] = customer.pk
    session["portal_shop_id"] = customer.shop_id
    session.save()
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
