"""Loyalty in the console: the manual adjustment page goes through the service, records the staff
user and the reason, and offers only the staff user's shop's customers."""

import pytest
from django.urls import reverse

from loyalty.models import CustomerBalance, LedgerEntry, LoyaltyProgram
from loyalty.services import points_earn
from tests import factories as f

pytestmark = pytest.mark.django_db
ADJUST = "admin:loyalty_ledgerentry_adjust"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop():
    return f.ShopFactory()


@pytest.fixture
def staff_user(shop):
    return f.StaffMembershipFactory(shop=shop, user__username="alice").user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_changelist_links_to_the_adjustment_page(staff_client, shop):
    customer = f.CustomerFactory(shop=shop)
    response = staff_client.get(
        reverse("admin:loyalty_ledgerentry_changelist"), {"customer__id__exact": customer.pk}
    )
    assert response.status_code == 200
    assert f"{reverse(ADJUST)}?customer={customer.pk}" in response.content.decode()


def test_staff_adjusts_points_with_a_reason(staff_client, staff_user, shop):
    customer = f.CustomerFactory(shop=shop)
    page = staff_client.get(reverse(ADJUST), {"customer": customer.pk})
    assert page.status_code == 200
    response = staff_client.post(
        reverse(ADJUST), {"customer": customer.pk, "points": 25, "reason": "Late box"}
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(customer=customer)
    assert (entry.kind, entry.points, entry.reason, entry.staff_user) == (
        "adjust",
        25,
        "Late box",
        staff_user,
    )
    assert CustomerBalance.objects.get(customer=customer).points == 25


def test_removing_more_than_the_balance_is_a_form_error(staff_client, shop):
    customer = f.CustomerFactory(shop=shop)
    points_earn(customer=customer, points=10, reason="Order")
    response = staff_client.post(reverse(ADJUST), {"customer": customer.pk, "points": -50, "reason": "Oops"})
    assert response.status_code == 200
    assert "Not enough points" in response.content.decode()
    assert CustomerBalance.objects.get(customer=customer).points == 10


def test_another_shops_customer_cannot_be_adjusted(staff_client):
    theirs = f.CustomerFactory(shop=f.ShopFactory(), email="theirsqx@example.com")
    page = staff_client.get(reverse(ADJUST))
    assert "theirsqx" not in page.content.decode()
    response = staff_client.post(reverse(ADJUST), {"customer": theirs.pk, "points": 5, "reason": "x"})
    assert response.status_code == 200 and response.context["form"].errors["customer"]
    assert not LedgerEntry.objects.exists()


def test_staff_without_membership_cannot_adjust(client):
    client.force_login(f.UserFactory(is_staff=True))
    assert client.get(reverse(ADJUST)).status_code == 403


def test_staff_edits_their_program_and_cannot_add_a_second(staff_client, shop):
    program = LoyaltyProgram.objects.create(shop=shop)
    assert staff_client.get(reverse("admin:loyalty_loyaltyprogram_add")).status_code == 403
    page = staff_client.get(reverse("admin:loyalty_loyaltyprogram_change", args=[program.pk]))
    assert page.status_code == 200
