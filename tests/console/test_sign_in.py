"""Brute-force protection on the console sign-in (django-axes): a (username, address) pair is
locked out after AXES_FAILURE_LIMIT failed attempts, even with the right password afterwards."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def attempt(client, username, password, address="203.0.113.5"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def test_right_password_signs_in(client, shop):
    f.StaffMembershipFactory(shop=shop, user__username="olivia")
    response = attempt(client, "olivia", "password")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_lockout_after_repeated_failures(client, shop):
    f.StaffMembershipFactory(shop=shop, user__username="olivia")
    for _ in range(2):
        response = attempt(client, "olivia", "wrong")
        assert response.status_code == 200  # the form again, with its error
    assert attempt(client, "olivia", "wrong").status_code == 429
    locked = attempt(client, "olivia", "password")
    assert locked.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302  # not signed in
    # Only that username from that address is locked out.
    assert attempt(client, "olivia", "password", address="198.51.100.7").status_code == 302


def test_a_success_resets_the_count(client, shop):
    f.StaffMembershipFactory(shop=shop, user__username="olivia")
    attempt(client, "olivia", "wrong")
    attempt(client, "olivia", "wrong")
    assert attempt(client, "olivia", "password").status_code == 302
    client.logout()
    attempt(client, "olivia", "wrong")
    assert attempt(client, "olivia", "password").status_code == 302


def test_lockout_ends_after_the_cool_off(client, shop, time_machine, frozen_clock, settings):
    import datetime as dt

    settings.AXES_COOLOFF_TIME = 1.0  # hour
    f.StaffMembershipFactory(shop=shop, user__username="olivia")
    for _ in range(3):
        attempt(client, "olivia", "wrong")
    assert attempt(client, "olivia", "password").status_code == 429
    time_machine.move_to(frozen_clock + dt.timedelta(minutes=61), tick=True)
    assert attempt(client, "olivia", "password").status_code == 302
