"""The Stripe gateway on recorded HTTP (`responses`): the exact request the official library sends,
and how Stripe's documented answers become order outcomes. No test reaches the internet."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses

from subscriptions.adapters import payments
from subscriptions.adapters.stripe import StripeGateway, minor_units
from subscriptions.models import Order, PaymentAttempt, PaymentMethod
from subscriptions.services import billing
from tests import factories as f

D = dt.date
URL = "https://api.stripe.com/v1/payment_intents"
KEY = "sk_test_51Billing0123456789"


@pytest.fixture(autouse=True)
def stripe_gateway(settings, monkeypatch):
    settings.STRIPE_SECRET_KEY = KEY
    # No library-level retries: each call below is one recorded HTTP exchange.
    monkeypatch.setitem(payments._GATEWAYS, "stripe", StripeGateway(max_network_retries=0))


@pytest.fixture
def recorded(db):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def _stripe_sub(currency="USD", price=Decimal("20.00"), quantity=1):
    shop = f.ShopFactory(currency=currency)
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(
        customer=customer, gateway=PaymentMethod.Gateway.STRIPE, token="cus_Q1w2e3:pm_1Abc"
    )
    variant = f.VariantFactory(shop=shop, price=price)
    return f.SubscriptionFactory(
        customer=customer,
        payment_method=method,
        lines=[variant],
        lines__quantity=quantity,
        next_billing_date=D(2025, 1, 15),
    )


def _intent(status="succeeded", amount=2000, currency="usd", id_="pi_3Succeeded"):
    return {
        "id": id_,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount if status == "succeeded" else 0,
        "currency": currency,
        "customer": "cus_Q1w2e3",
        "payment_method": "pm_1Abc",
        "status": status,
        "livemode": False,
    }


CARD_DECLINED = {
    "error": {
        "charge": "ch_3Declined",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": "Your card has insufficient funds.",
        "payment_intent": {
            "id": "pi_3Declined",
            "object": "payment_intent",
            "amount": 2000,
            "currency": "usd",
            "status": "requires_payment_method",
        },
        "request_log_url": "https://dashboard.stripe.com/test/logs/req_abc?t=1",
        "type": "card_error",
    }
}


def _form(call) -> dict[str, str]:
    body = call.request.body
    body = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def test_success_sends_the_documented_request_and_pays_the_order(recorded):
    sub = _stripe_sub()
    recorded.post(URL, json=_intent(), status=200)
    order = billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 15))
    assert order.status == Order.Status.PAID
    assert len(recorded.calls) == 1
    request = recorded.calls[0].request
    assert request.method == "POST" and request.url == URL
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    attempt = PaymentAttempt.objects.get(order=order)
    assert request.headers["Idempotency-Key"] == attempt.idempotency_key == f"order-{order.pk}-2025-01-15-1"
    form = _form(recorded.calls[0])
    assert {k: v for k, v in form.items() if k != "description"} == {
        "amount": "2000",
        "currency": "usd",
        "customer": "cus_Q1w2e3",
        "payment_method": "pm_1Abc",
        "off_session": "true",
        "confirm": "true",
    }
    assert f"order {order.pk}" in form["description"]
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED
    assert attempt.gateway == "stripe" and attempt.gateway_reference == "pi_3Succeeded"


def test_card_declined_fails_the_order_with_the_decline_code(recorded):
    sub = _stripe_sub()
    recorded.post(URL, json=CARD_DECLINED, status=402, headers={"Request-Id": "req_abc"})
    order = billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 15))
    assert order.status == Order.Status.FAILED
    assert order.failure_reason == "Your card has insufficient funds."
    assert order.next_retry_date == D(2025, 1, 18)  # frozen clock: 15 January, retries 3 days apart
    attempt = PaymentAttempt.objects.get(order=order)
    assert attempt.status == PaymentAttempt.Status.FAILED
    assert attempt.error_code == "insufficient_funds"
    assert attempt.gateway_reference == "pi_3Declined"


@pytest.mark.parametrize(
    "status,body",
    [
        (
            429,
            {
                "error": {
                    "code": "rate_limit",
                    "message": "Too many requests made to the API too quickly",
                    "type": "invalid_request_error",
                }
            },
        ),
        (500, {"error": {"message": "An unknown error occurred", "type": "api_error"}}),
    ],
)
def test_rate_limit_and_server_error_leave_the_order_pending_and_retry_with_the_same_key(
    recorded, status, body
):
    sub = _stripe_sub()
    recorded.post(URL, json=body, status=status)
    order = billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 15))
    assert order.status == Order.Status.PENDING
    attempt = PaymentAttempt.objects.get(order=order)
    assert attempt.status == PaymentAttempt.Status.ERROR
    assert attempt.error_code == "gateway_unavailable"
    # The next run asks Stripe again about the same charge: same idempotency key, same attempt.
    recorded.replace(responses.POST, URL, json=_intent(), status=200)
    billing.shop_run_billing(shop=sub.shop, run_date=D(2025, 1, 16))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert len(recorded.calls) == 2
    first, second = (call.request.headers["Idempotency-Key"] for call in recorded.calls)
    assert first == second == attempt.idempotency_key
    assert _form(recorded.calls[0]) == _form(recorded.calls[1])
    assert PaymentAttempt.objects.filter(order=order).count() == 1


def test_zero_decimal_currency_is_sent_in_whole_units(recorded):
    sub = _stripe_sub(currency="JPY", price=Decimal("1500"), quantity=2)
    recorded.post(URL, json=_intent(amount=3000, currency="jpy"), status=200)
    order = billing.subscription_renew(subscription=sub, run_date=D(2025, 1, 15))
    assert order.status == Order.Status.PAID and order.total == Decimal("3000.00")
    form = _form(recorded.calls[0])
    assert form["amount"] == "3000" and form["currency"] == "jpy"


@pytest.mark.parametrize(
    "amount,currency,expected",
    [
        (Decimal("20.00"), "USD", 2000),
        (Decimal("0.99"), "EUR", 99),
        (Decimal("1500"), "JPY", 1500),
        (Decimal("1500.00"), "jpy", 1500),
    ],
)
def test_minor_units(amount, currency, expected):
    assert minor_units(amount, currency) == expected
