"""Hosted checkout in the merchant console: staff see and change their own shop's rows only."""

import pytest
from django.test import Client
from django.urls import reverse

from portal.checkout.models import Checkout, CheckoutSettings
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(shop):
    client = Client()
    client.force_login(f.StaffMembershipFactory(shop=shop, user__username="alice").user)
    return client


def test_checkouts_are_scoped_and_read_only(staff, shop):
    mine = Checkout.objects.create(shop=shop)
    theirs = Checkout.objects.create(shop=f.ShopFactory())
    listing = staff.get(reverse("admin:checkout_checkout_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [mine]
    assert staff.get(reverse("admin:checkout_checkout_change", args=[mine.pk])).status_code == 200
    assert staff.get(reverse("admin:checkout_checkout_change", args=[theirs.pk])).status_code == 404
    assert staff.post(reverse("admin:checkout_checkout_change", args=[mine.pk]), {}).status_code == 403


def test_staff_allow_one_time_purchases_for_their_shop(staff, shop):
    response = staff.post(reverse("admin:checkout_checkoutsettings_add"), {"allow_one_time_purchase": "on"})
    assert response.status_code == 302
    settings_row = CheckoutSettings.objects.get()
    assert settings_row.shop == shop and settings_row.allow_one_time_purchase
    # One row per shop.
    assert staff.get(reverse("admin:checkout_checkoutsettings_add")).status_code == 403
    other = CheckoutSettings.objects.create(shop=f.ShopFactory())
    assert staff.get(reverse("admin:checkout_checkoutsettings_change", args=[other.pk])).status_code == 404
