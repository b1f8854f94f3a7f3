"""Stripe as a secondary gateway, on recorded HTTP (`responses`): connecting checks the secret key
with one real call and keeps it encrypted; then a renewal of a customer whose payment method is a
Stripe one (migrated `cus_...:pm_...`) is an off-session PaymentIntent in the shop's own Stripe
account, with the attempt's idempotency key, while the shop's other customers keep their gateway."""

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection

from integrations.models import Integration
from integrations.services import integration_connect
from subscriptions.models import Order, PaymentAttempt, PaymentMethod, SandboxCharge
from subscriptions.services import billing
from subscriptions.services.billing import shop_run_billing
from tests import factories as f

pytestmark = pytest.mark.django_db

D = dt.date
BALANCE = "https://api.stripe.com/v1/balance"
INTENTS = "https://api.stripe.com/v1/payment_intents"
SHOP_KEY = "sk_test_51ShopOwnAccount000000000001"
PLATFORM_KEY = "sk_test_51PlatformWide0000000000002"


@pytest.fixture(autouse=True)
def no_platform_key(settings):
    settings.STRIPE_SECRET_KEY = ""


@pytest.fixture
def recorded():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def shop():
    return f.ShopFactory(currency="USD")


def _balance(livemode=False):
    return {
        "object": "balance",
        "available": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
        "pending": [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}],
        "livemode": livemode,
    }


def _connect(shop, recorded, key=SHOP_KEY) -> Integration:
    recorded.get(BALANCE, json=_balance())
    return integration_connect(shop=shop, partner_key="stripe", credentials={"secret_key": key})


def _intent(amount=2000, id_="pi_3Shop"):
    return {
        "id": id_,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "usd",
        "status": "succeeded",
        "livemode": False,
    }


def _sub(shop, *, gateway, token, price=Decimal("20.00")):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, gateway=gateway, token=token)
    variant = f.VariantFactory(shop=shop, price=price)
    return f.SubscriptionFactory(
        customer=customer, payment_method=method, lines=[variant], next_billing_date=D(2025, 1, 15)
    )


# ---------------------------------------------------------------- connect


def test_connect_checks_the_key_with_one_call_and_keeps_it_encrypted(shop, recorded):
    integration = _connect(shop, recorded)
    [call] = recorded.calls
    assert call.request.method == "GET" and call.request.url == BALANCE
    assert call.request.headers["Authorization"] == f"Bearer {SHOP_KEY}"
    assert integration.state == Integration.State.CONNECTED
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk])
        stored = cursor.fetchone()[0]
    assert SHOP_KEY not in stored
    assert Integration.objects.get(pk=integration.pk).credentials == {"secret_key": SHOP_KEY}


def test_a_key_stripe_refuses_is_not_saved(shop, recorded):
    recorded.get(
        BALANCE,
        status=401,
        json={
            "error": {
                "message": "Invalid API Key provided: sk_test_****0001",
                "type": "invalid_request_error",
            }
        },
    )
    from subscriptions.errors import DomainError

    with pytest.raises(DomainError) as caught:
        integration_connect(shop=shop, partner_key="stripe", credentials={"secret_key": SHOP_KEY})
    assert caught.value.field == "secret_key"
    assert "does not recognise" in caught.value.message and SHOP_KEY not in caught.value.message
    assert not Integration.objects.filter(shop=shop, partner="stripe").exists()


@pytest.mark.parametrize(
    ("key", "says"), [("pk_test_51Publishable", "publishable"), ("whsec_abc", "starts with sk_")]
)
def test_a_key_that_is_not_a_secret_key_is_refused_without_calling_stripe(shop, recorded, key, says):
    from subscriptions.errors import DomainError

    with pytest.raises(DomainError) as caught:
        integration_connect(shop=shop, partner_key="stripe", credentials={"secret_key": key})
    assert caught.value.field == "secret_key" and says in caught.value.message
    assert len(recorded.calls) == 0


# ---------------------------------------------------------------- billing


def test_a_migrated_stripe_customer_renews_through_the_shops_stripe_account(shop, recorded):
    _connect(shop, recorded)
    migrated = _sub(shop, gateway=PaymentMethod.Gateway.STRIPE, token="cus_Migrated1:pm_Migrated1")
    recorded.post(INTENTS, json=_intent())

    order = billing.subscription_renew(subscription=migrated, run_date=D(2025, 1, 15))

    assert order.status == Order.Status.PAID
    [call] = [c for c in recorded.calls if c.request.url == INTENTS]
    attempt = PaymentAttempt.objects.get(order=order)
    assert call.request.headers["Authorization"] == f"Bearer {SHOP_KEY}"
    assert (
        call.request.headers["Idempotency-Key"] == attempt.idempotency_key == f"order-{order.pk}-2025-01-15-1"
    )
    body = call.request.body.decode() if isinstance(call.request.body, bytes) else call.request.body
    form = {k: v[0] for k, v in parse_qs(body).items()}
    assert form["customer"] == "cus_Migrated1" and form["payment_method"] == "pm_Migrated1"
    assert form["amount"] == "2000" and form["currency"] == "usd"
    assert form["off_session"] == "true" and form["confirm"] == "true"
    assert attempt.gateway == "stripe" and attempt.gateway_reference == "pi_3Shop"


def test_a_billing_run_sends_stripe_customers_to_stripe_and_the_others_to_their_gateway(shop, recorded):
    _connect(shop, recorded)
    migrated = _sub(shop, gateway=PaymentMethod.Gateway.STRIPE, token="cus_Migrated1:pm_Migrated1")
    native = _sub(shop, gateway=PaymentMethod.Gateway.TEST, token="tok_success")
    recorded.post(INTENTS, json=_intent())

    shop_run_billing(shop=shop, run_date=D(2025, 1, 15))

    intents = [c for c in recorded.calls if c.request.url == INTENTS]
    assert len(intents) == 1
    paid = {o.subscription_id: o for o in Order.objects.filter(shop=shop)}
    assert paid[migrated.pk].status == paid[native.pk].status == Order.Status.PAID
    assert PaymentAttempt.objects.get(order=paid[native.pk]).gateway == "test"
    assert SandboxCharge.objects.filter(token="tok_success").count() == 1
    assert (
        intents[0].request.headers["Idempotency-Key"]
        == PaymentAttempt.objects.get(order=paid[migrated.pk]).idempotency_key
    )


def test_each_shop_bills_with_its_own_key_and_a_disconnected_shop_falls_back(shop, recorded, settings):
    settings.STRIPE_SECRET_KEY = PLATFORM_KEY
    _connect(shop, recorded)
    other_shop = f.ShopFactory(currency="USD")
    ours = _sub(shop, gateway=PaymentMethod.Gateway.STRIPE, token="cus_A:pm_A")
    theirs = _sub(other_shop, gateway=PaymentMethod.Gateway.STRIPE, token="cus_B:pm_B")
    recorded.post(INTENTS, json=_intent())

    billing.subscription_renew(subscription=ours, run_date=D(2025, 1, 15))
    billing.subscription_renew(subscription=theirs, run_date=D(2025, 1, 15))

    keys = [c.request.headers["Authorization"] for c in recorded.calls if c.request.url == INTENTS]
    assert keys == [f"Bearer {SHOP_KEY}", f"Bearer {PLATFORM_KEY}"]


def test_a_declined_migrated_card_fails_the_order_as_any_stripe_decline(shop, recorded):
    _connect(shop, recorded)
    migrated = _sub(shop, gateway=PaymentMethod.Gateway.STRIPE, token="cus_Migrated1:pm_Migrated1")
    recorded.post(
        INTENTS,
        status=402,
        json={
            "error": {
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "type": "card_error",
                "payment_intent": {
                    "id": "pi_3Declined",
                    "object": "payment_intent",
                    "status": "requires_payment_method",
                },
            }
        },
    )
    order = billing.subscription_renew(subscription=migrated, run_date=D(2025, 1, 15))
    assert order.status == Order.Status.FAILED
    attempt = PaymentAttempt.objects.get(order=order)
    assert attempt.error_code == "insufficient_funds"
