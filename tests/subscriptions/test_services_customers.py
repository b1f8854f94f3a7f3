"""Customer services: one email per shop (case-insensitive), every change logged, nothing emitted."""

import pytest

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.models import ActivityLog, Customer
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

ADMIN = Actor("admin", "merchant")


class TestCreate:
    def test_customer_is_created_with_a_lower_case_email(self, shop):
        customer = services.customer_create(
            shop=shop,
            email="  Ada.Lovelace@Example.COM ",
            actor=ADMIN,
            first_name=" Ada ",
            last_name="Lovelace",
        )

        customer.refresh_from_db()
        assert (customer.shop, customer.email) == (shop, "ada.lovelace@example.com")
        assert (customer.first_name, customer.last_name) == ("Ada", "Lovelace")
        assert customer.subscriber_since is None
        log = ActivityLog.objects.get()
        assert (log.action, log.customer, log.actor_type, log.actor_name) == (
            "customer_created",
            customer,
            "admin",
            "merchant",
        )
        assert not OutboxEvent.objects.exists()

    @pytest.mark.parametrize("email", ["ada@example.com", "ADA@example.com", " Ada@Example.com "])
    def test_duplicate_email_in_the_shop_is_refused_whatever_the_case(self, shop, refused, email):
        services.customer_create(shop=shop, email="ada@example.com", actor=ADMIN)
        error = refused("email_taken", services.customer_create, shop=shop, email=email, actor=ADMIN)
        assert error.field == "email"

    def test_duplicate_of_a_mixed_case_email_stored_by_an_import_is_refused(self, shop, refused):
        f.CustomerFactory(shop=shop, email="Ada@Example.com")
        refused("email_taken", services.customer_create, shop=shop, email="ada@example.com", actor=ADMIN)

    def test_same_email_in_another_shop_is_a_different_customer(self, shop):
        f.CustomerFactory(email="ada@example.com")
        customer = services.customer_create(shop=shop, email="ada@example.com", actor=ADMIN)
        assert Customer.objects.filter(email="ada@example.com").count() == 2
        assert customer.shop == shop

    @pytest.mark.parametrize("email", ["", "not-an-email", "a@b"])
    def test_invalid_email_is_refused(self, shop, refused, email):
        refused("invalid_email", services.customer_create, shop=shop, email=email, actor=ADMIN)

    def test_unknown_field_is_refused(self, shop, refused):
        refused(
            "unknown_field",
            services.customer_create,
            shop=shop,
            email="x@example.com",
            actor=ADMIN,
            password="x",
        )


class TestUpdate:
    def test_changes_are_saved_and_logged_with_before_and_after(self, customer):
        services.customer_update(customer=customer, actor=ADMIN, email="ADA@lovelace.org", phone=" +44 20 ")

        customer.refresh_from_db()
        assert (customer.email, customer.phone) == ("ada@lovelace.org", "+44 20")
        log = ActivityLog.objects.get()
        assert log.action == "customer_updated"
        assert log.details == {
            "email": {"from": "ada@example.com", "to": "ada@lovelace.org"},
            "phone": {"from": "", "to": "+44 20"},
        }
        assert not OutboxEvent.objects.exists()

    @pytest.mark.parametrize("email", ["bob@example.com", "BOB@Example.com"])
    def test_taking_another_customers_email_is_refused_whatever_the_case(
        self, shop, customer, refused, email
    ):
        f.CustomerFactory(shop=shop, email="bob@example.com")
        refused("email_taken", services.customer_update, customer=customer, actor=ADMIN, email=email)

    def test_taking_a_mixed_case_email_stored_by_an_import_is_refused(self, shop, customer, refused):
        f.CustomerFactory(shop=shop, email="Bob@Example.com")
        refused(
            "email_taken", services.customer_update, customer=customer, actor=ADMIN, email="bob@example.com"
        )

    def test_another_shops_customer_with_that_email_does_not_matter(self, customer):
        f.CustomerFactory(email="bob@example.com")
        services.customer_update(customer=customer, actor=ADMIN, email="bob@example.com")
        customer.refresh_from_db()
        assert customer.email == "bob@example.com"

    def test_own_email_in_another_case_changes_nothing(self, customer, db_state):
        before = db_state()
        services.customer_update(customer=customer, actor=ADMIN, email="ADA@EXAMPLE.COM", first_name="Ada")
        assert db_state() == before

    def test_invalid_email_and_unknown_field_are_refused(self, customer, refused):
        refused("invalid_email", services.customer_update, customer=customer, actor=ADMIN, email="nope")
        refused("unknown_field", services.customer_update, customer=customer, actor=ADMIN, shop=None)
