"""The hosted checkout with Stripe connected, on recorded HTTP (`responses`): Stripe Elements on the
page, the SetupIntent for a checkout's own Stripe customer, then placing the order charges the
confirmed card off-session once; and Stripe refunds (a failed save after the charge). No test
reaches the internet."""

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from django.core.cache import cache

from portal.checkout.models import Checkout
from subscriptions.adapters import payments
from subscriptions.adapters.stripe import StripeGateway
from subscriptions.models import Customer, Order, PaymentMethod, SandboxCharge, Subscription
from tests.portal.checkout.conftest import details

pytestmark = pytest.mark.django_db

API = "https://api.stripe.com/v1"
PM = {
    "id": "pm_1Card",
    "object": "payment_method",
    "type": "card",
    "customer": "cus_Checkout1",
    "card": {"brand": "visa", "last4": "4242", "exp_month": 8, "exp_year": 2031},
    "livemode": False,
}


@pytest.fixture(autouse=True)
def stripe_keys(settings, monkeypatch):
    cache.clear()
    settings.STRIPE_SECRET_KEY = "sk_test_51Checkout0123456789"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_51Checkout0123456789"
    monkeypatch.setitem(payments._GATEWAYS, "stripe", StripeGateway(max_network_retries=0))


@pytest.fixture
def recorded():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def form(call) -> dict:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.fixture
def ready(client, shop, coffee, monthly):
    client.post(
        f"/subscribe/{shop.domain}/{coffee.pk}/",
        {"variant": coffee.small.pk, "plan": monthly.pk, "quantity": 1},
    )
    return client.get(f"/subscribe/{shop.domain}/checkout/")


def stripe_details(token, **overrides):
    data = details(token, **{"payment_method": "pm_1Card", **overrides})
    for name in ("number", "exp_month", "exp_year"):
        del data[name]
    return data


def test_checkout_page_uses_stripe_elements(ready):
    page = ready.content.decode()
    assert '<script src="https://js.stripe.com/v3/"></script>' in page
    assert 'data-key="pk_test_51Checkout0123456789"' in page
    assert "/card-setup/" in page and "stripe.confirmCardSetup(" in page
    assert 'name="number"' not in page  # no card number ever reaches this server
    assert "sk_test" not in page


def test_card_setup_and_placing_the_order(client, shop, ready, recorded):
    checkout = ready.context["checkout"]
    recorded.post(f"{API}/customers", json={"id": "cus_Checkout1", "object": "customer"})
    recorded.post(
        f"{API}/setup_intents",
        json={"id": "seti_1", "object": "setup_intent", "client_secret": "seti_1_secret"},
    )
    response = client.post(f"/subscribe/{shop.domain}/card-setup/")
    assert response.json() == {"client_secret": "seti_1_secret"}
    customer_call, intent_call = recorded.calls
    assert form(customer_call) == {"metadata[checkout]": str(checkout.token)}
    assert form(intent_call) == {"customer": "cus_Checkout1", "usage": "off_session"}

    recorded.get(f"{API}/payment_methods/pm_1Card", json=PM)
    recorded.post(
        f"{API}/payment_intents",
        json={"id": "pi_1Paid", "object": "payment_intent", "status": "succeeded", "amount": 1800},
    )
    placed = client.post(f"/subscribe/{shop.domain}/checkout/", stripe_details(checkout.token))
    assert placed.status_code == 302
    charge_call = recorded.calls[-1]
    assert charge_call.request.url == f"{API}/payment_intents"
    assert form(charge_call) == {
        "amount": "1800",
        "currency": "usd",
        "customer": "cus_Checkout1",
        "payment_method": "pm_1Card",
        "off_session": "true",
        "confirm": "true",
        "description": f"Beans checkout {checkout.token}",
    }
    assert charge_call.request.headers["Idempotency-Key"] == f"checkout-{checkout.token}-1"
    customer = Customer.objects.get(shop=shop)
    assert customer.stripe_customer_id == "cus_Checkout1"
    sub = Subscription.objects.get(customer=customer)
    method = sub.payment_method
    assert (method.gateway, method.token, method.last4) == ("stripe", "cus_Checkout1:pm_1Card", "4242")
    assert Order.objects.get(subscription=sub).payment_attempts.get().gateway_reference == "pi_1Paid"


def test_card_declined_by_stripe_creates_nothing(client, shop, ready, recorded):
    checkout = ready.context["checkout"]
    Checkout.objects.filter(pk=checkout.pk).update(stripe_customer_id="cus_Checkout1")
    recorded.get(f"{API}/payment_methods/pm_1Card", json=PM)
    recorded.post(
        f"{API}/payment_intents",
        status=402,
        json={
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
            }
        },
    )
    response = client.post(f"/subscribe/{shop.domain}/checkout/", stripe_details(checkout.token))
    assert response.status_code == 400
    assert "Your card was declined." in response.content.decode()
    assert Customer.objects.filter(shop=shop).count() == 0
    assert PaymentMethod.objects.count() == 0


def test_someone_elses_card_is_refused(client, shop, ready, recorded):
    checkout = ready.context["checkout"]
    Checkout.objects.filter(pk=checkout.pk).update(stripe_customer_id="cus_Checkout1")
    recorded.get(f"{API}/payment_methods/pm_1Card", json={**PM, "customer": "cus_SomeoneElse"})
    response = client.post(f"/subscribe/{shop.domain}/checkout/", stripe_details(checkout.token))
    assert response.status_code == 400
    assert "That card could not be used." in response.content.decode()
    assert Customer.objects.filter(shop=shop).count() == 0


def test_missing_confirmed_card_is_refused(client, shop, ready):
    checkout = ready.context["checkout"]
    response = client.post(
        f"/subscribe/{shop.domain}/checkout/", stripe_details(checkout.token, payment_method="")
    )
    assert response.status_code == 400
    assert "Enter your card details." in response.content.decode()


def test_card_setup_without_stripe_is_a_404(client, shop, ready, settings):
    settings.STRIPE_PUBLISHABLE_KEY = ""
    assert client.post(f"/subscribe/{shop.domain}/card-setup/").status_code == 404


# ---------------------------------------------------------------- refunds (gateway interface)


def test_stripe_refund_request_and_answers(recorded):
    gateway = StripeGateway(max_network_retries=0)
    recorded.post(
        f"{API}/refunds",
        json={
            "id": "re_1",
            "object": "refund",
            "status": "succeeded",
            "amount": 1800,
            "payment_intent": "pi_1",
        },
    )
    result = gateway.refund(
        charge_reference="pi_1",
        amount=Decimal("18.00"),
        currency="USD",
        idempotency_key="refund-checkout-x-1",
    )
    assert (result.status, result.reference) == ("succeeded", "re_1")
    call = recorded.calls[0]
    assert form(call) == {"payment_intent": "pi_1", "amount": "1800"}
    assert call.request.headers["Idempotency-Key"] == "refund-checkout-x-1"

    recorded.post(
        f"{API}/refunds",
        status=400,
        json={
            "error": {
                "type": "invalid_request_error",
                "code": "charge_already_refunded",
                "message": "Already refunded.",
            }
        },
    )
    failed = gateway.refund(
        charge_reference="pi_1", amount=Decimal("18.00"), currency="USD", idempotency_key="k2"
    )
    assert failed.status == "failed" and "Already refunded." in failed.message


def test_sandbox_refund_marks_the_charge():
    from tests.factories import PaymentMethodFactory

    gateway = payments.SandboxGateway()
    method = PaymentMethodFactory(token="tok_success")
    charged = gateway.charge(
        payment_method=method, amount=Decimal("5.00"), currency="USD", idempotency_key="k-1", description="t"
    )
    refund = gateway.refund(
        charge_reference=charged.reference, amount=Decimal("5.00"), currency="USD", idempotency_key="r"
    )
    assert refund.status == "succeeded" and refund.reference.startswith("re_test_")
    assert SandboxCharge.objects.get(idempotency_key="k-1").outcome == "refunded"


def test_failed_save_after_a_stripe_charge_refunds_it(client, shop, ready, recorded, monkeypatch):
    from portal.checkout import services

    checkout = ready.context["checkout"]
    Checkout.objects.filter(pk=checkout.pk).update(stripe_customer_id="cus_Checkout1")
    recorded.get(f"{API}/payment_methods/pm_1Card", json=PM)
    recorded.post(
        f"{API}/payment_intents",
        json={"id": "pi_1Paid", "object": "payment_intent", "status": "succeeded", "amount": 1800},
    )
    recorded.post(
        f"{API}/refunds",
        json={
            "id": "re_1",
            "object": "refund",
            "status": "succeeded",
            "amount": 1800,
            "payment_intent": "pi_1Paid",
        },
    )

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "order_record_checkout_payment", broken)
    response = client.post(f"/subscribe/{shop.domain}/checkout/", stripe_details(checkout.token))
    assert response.status_code == 503
    refund_call = recorded.calls[-1]
    assert form(refund_call) == {"payment_intent": "pi_1Paid", "amount": "1800"}
    assert refund_call.request.headers["Idempotency-Key"] == f"refund-checkout-{checkout.token}-1"
    assert Customer.objects.filter(shop=shop).count() == 0
    assert PaymentMethod.objects.count() == 0
    checkout.refresh_from_db()
    assert checkout.refunds == [
        {"charge": "pi_1Paid", "amount": "18.00", "refund": "re_1", "status": "succeeded"}
    ]
