import pytest

from notifications.services import email_notifications_set
from tests import factories as f


@pytest.fixture(autouse=True)
def _locmem_email(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://subs.example.com"


@pytest.fixture
def shop(db):
    return f.ShopFactory(name="Demo Coffee Co.", domain="demo-coffee.example")


@pytest.fixture
def emails_on(shop):
    return email_notifications_set(shop=shop, enabled=True, from_email="hello@demo-coffee.example")


@pytest.fixture
def customer(shop):
    return f.CustomerFactory(
        shop=shop, first_name="Jane", last_name="Doe", email="jane@example.com", phone="(555) 010-4477"
    )


@pytest.fixture
def sub(customer):
    return f.SubscriptionFactory(customer=customer)
