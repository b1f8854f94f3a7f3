"""Stripe Elements for "Update payment method", server side on recorded HTTP (`responses`): the
SetupIntent the page's script asks for, and saving the card Stripe.js confirmed. No test reaches
the internet."""

from urllib.parse import parse_qs

import pytest
import responses

from subscriptions.adapters import payments
from subscriptions.adapters.stripe import StripeGateway
from subscriptions.models import ActivityLog, PaymentMethod
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db

API = "https://api.stripe.com/v1"
PM = {
    "id": "pm_1Card",
    "object": "payment_method",
    "type": "card",
    "customer": "cus_New123",
    "card": {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2031},
    "livemode": False,
}


@pytest.fixture(autouse=True)
def stripe_keys(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = "sk_test_51Portal0123456789"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_51Portal0123456789"
    monkeypatch.setitem(payments._GATEWAYS, "stripe", StripeGateway(max_network_retries=0))


@pytest.fixture
def recorded():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def test_page_shows_stripe_elements(signed_in, sub):
    page = signed_in.get(f"/account/subscriptions/{sub.pk}/").content.decode()
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert 'data-key="pk_test_51Portal0123456789"' in page
    assert "stripe.confirmCardSetup(" in page
    assert f"/account/subscriptions/{sub.pk}/card-setup/" in page
    assert 'id="test-card-form"' not in page  # a live Stripe shop never takes test-gateway cards
    assert "<noscript>" in page
    assert "sk_test" not in page


def test_without_publishable_key_the_test_form_only(settings, signed_in, sub):
    settings.STRIPE_PUBLISHABLE_KEY = ""
    page = signed_in.get(f"/account/subscriptions/{sub.pk}/").content.decode()
    assert "js.stripe.com" not in page and "stripe-card-form" not in page
    assert 'name="number"' in page
    assert signed_in.post(f"/account/subscriptions/{sub.pk}/card-setup/").status_code == 404
    response = signed_in.post(
        f"/account/subscriptions/{sub.pk}/stripe-payment-method/", {"payment_method": "pm_1Card"}
    )
    assert response.status_code == 404


def test_setup_intent_makes_the_stripe_customer_once(signed_in, customer, sub, recorded):
    recorded.post(f"{API}/customers", json={"id": "cus_New123", "object": "customer"})
    recorded.post(
        f"{API}/setup_intents",
        json={"id": "seti_1", "object": "setup_intent", "client_secret": "seti_1_secret_abc"},
    )
    response = signed_in.post(f"/account/subscriptions/{sub.pk}/card-setup/")
    assert response.status_code == 200
    assert response.json() == {"client_secret": "seti_1_secret_abc"}
    customer_call, intent_call = recorded.calls
    assert customer_call.request.url == f"{API}/customers"
    assert form(customer_call) == {"email": "ada@example.com"}
    assert intent_call.request.url == f"{API}/setup_intents"
    assert form(intent_call) == {"customer": "cus_New123", "usage": "off_session"}
    assert intent_call.request.headers["Authorization"] == "Bearer sk_test_51Portal0123456789"
    customer.refresh_from_db()
    assert customer.stripe_customer_id == "cus_New123"

    # The next time: no new Stripe customer.
    recorded.post(
        f"{API}/setup_intents",
        json={"id": "seti_2", "object": "setup_intent", "client_secret": "seti_2_secret"},
    )
    assert signed_in.post(f"/account/subscriptions/{sub.pk}/card-setup/").json() == {
        "client_secret": "seti_2_secret"
    }
    assert [c.request.url for c in recorded.calls[2:]] == [f"{API}/setup_intents"]


def test_setup_intent_stripe_error(signed_in, customer, sub, recorded):
    customer.stripe_customer_id = "cus_New123"
    customer.save()
    recorded.post(
        f"{API}/setup_intents",
        status=400,
        json={"error": {"type": "invalid_request_error", "message": "No such customer: 'cus_New123'"}},
    )
    response = signed_in.post(f"/account/subscriptions/{sub.pk}/card-setup/")
    assert response.status_code == 502
    assert "could not be saved" in response.json()["error"]


def test_completion_saves_the_card_and_switches_the_subscription(signed_in, customer, sub, recorded):
    customer.stripe_customer_id = "cus_New123"
    customer.save()
    recorded.get(f"{API}/payment_methods/pm_1Card", json=PM)
    response = signed_in.post(
        f"/account/subscriptions/{sub.pk}/stripe-payment-method/", {"payment_method": "pm_1Card"}, follow=True
    )
    method = PaymentMethod.objects.get(customer=customer, gateway="stripe")
    assert (method.token, method.brand, method.last4, method.exp_month, method.exp_year) == (
        "cus_New123:pm_1Card",
        "Visa",
        "4242",
        8,
        2031,
    )
    sub.refresh_from_db()
    assert sub.payment_method_id == method.pk
    assert messages_of(response)[0].startswith(f"Payment method updated: {method}.")
    assert ActivityLog.objects.filter(
        subscription=sub, action="payment_method_updated", actor_type="customer"
    ).exists()
    assert len(recorded.calls) == 1 and recorded.calls[0].request.method == "GET"


def test_completion_stripe_error_changes_nothing(signed_in, customer, sub, recorded):
    customer.stripe_customer_id = "cus_New123"
    customer.save()
    before = sub.payment_method_id
    recorded.get(
        f"{API}/payment_methods/pm_1Card",
        status=404,
        json={"error": {"type": "invalid_request_error", "message": "No such PaymentMethod: 'pm_1Card'"}},
    )
    response = signed_in.post(
        f"/account/subscriptions/{sub.pk}/stripe-payment-method/", {"payment_method": "pm_1Card"}, follow=True
    )
    assert messages_of(response) == [
        "The card could not be saved with our payment processor. Nothing was changed; please try again."
    ]
    sub.refresh_from_db()
    assert sub.payment_method_id == before
    assert not PaymentMethod.objects.filter(customer=customer, gateway="stripe").exists()


def test_completion_refuses_another_customers_card(signed_in, customer, sub, recorded):
    customer.stripe_customer_id = "cus_Mine"
    customer.save()
    recorded.get(f"{API}/payment_methods/pm_1Card", json=PM)  # attached to cus_New123
    response = signed_in.post(
        f"/account/subscriptions/{sub.pk}/stripe-payment-method/", {"payment_method": "pm_1Card"}, follow=True
    )
    assert messages_of(response) == ["That card could not be saved. Nothing was changed."]
    assert not PaymentMethod.objects.filter(customer=customer, gateway="stripe").exists()
