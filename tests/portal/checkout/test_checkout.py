"""The hosted subscribe page and checkout through their views: what a shopper sees and what gets
created. Every refusal answers 4xx, shows its error next to the field and creates nothing."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from portal.checkout.models import Checkout, CheckoutSettings
from subscriptions.adapters import payments
from subscriptions.models import (
    Address,
    Customer,
    DiscountCode,
    Order,
    PaymentAttempt,
    PaymentMethod,
    SandboxCharge,
    Subscription,
    add_interval,
)
from tests.factories import (
    CustomerFactory,
    DiscountCodeFactory,
    PlanFactory,
    ProductFactory,
    ShopFactory,
    SubscriptionProgramFactory,
    VariantFactory,
)
from tests.portal.checkout.conftest import CARD_DECLINED, CARD_GATEWAY_DOWN, CARD_NO_FUNDS, details
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def product_url(shop, product):
    return f"/subscribe/{shop.domain}/{product.pk}/"


def checkout_url(shop):
    return f"/subscribe/{shop.domain}/checkout/"


def add(client, shop, variant, plan, quantity=1):
    response = client.post(
        product_url(shop, variant.product),
        {"variant": variant.pk, "plan": plan if isinstance(plan, str) else plan.pk, "quantity": quantity},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def open_checkout(client, shop) -> Checkout:
    response = client.get(checkout_url(shop))
    assert response.status_code == 200
    return response.context["checkout"]


def created_counts(shop) -> dict:
    return {
        "customers": Customer.objects.filter(shop=shop).count(),
        "addresses": Address.objects.filter(shop=shop).count(),
        "payment_methods": PaymentMethod.objects.filter(shop=shop).count(),
        "subscriptions": Subscription.objects.filter(shop=shop).count(),
        "orders": Order.objects.filter(shop=shop).count(),
        "charges": SandboxCharge.objects.filter(outcome="succeeded").count(),
        "events": OutboxEvent.objects.filter(shop_id=shop.pk).count(),
    }


NOTHING = {
    "customers": 0,
    "addresses": 0,
    "payment_methods": 0,
    "subscriptions": 0,
    "orders": 0,
    "charges": 0,
    "events": 0,
}


def field_error(response, field) -> str:
    """The error text rendered next to a field (the element its input's aria-describedby names)."""
    html = response.content.decode()
    match = re.search(rf'<p class="field-error" id="id_{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field}"
    assert f'aria-describedby="id_{field}-error"' in html
    return match.group(1)


# ---------------------------------------------------------------- subscribe page


def test_product_page_shows_plans_with_savings_and_next_order_date(client, shop, coffee, monthly):
    response = client.get(product_url(shop, coffee))
    assert response.status_code == 200
    html = response.content.decode()
    assert "House Coffee" in html and "250 g" in html and "1 kg" in html
    assert "Coffee Club: Every month (every month) — save 10%" in html
    assert "18.00" in html  # 20.00 less 10 %
    next_date = add_interval(shop.local_today(), "month", 1)
    assert next_date.strftime("%d/%m/%Y") in html
    assert "One-time purchase" not in html  # the shop does not allow it


def test_another_shops_product_is_a_404(client, shop, coffee, monthly):
    other = ShopFactory(domain="other.example")
    assert client.get(f"/subscribe/{other.domain}/{coffee.pk}/").status_code == 404
    assert client.get(f"/subscribe/nowhere.example/{coffee.pk}/").status_code == 404
    assert client.post(f"/subscribe/{other.domain}/{coffee.pk}/", {}).status_code == 404


def test_product_without_a_plan_is_a_404(client, shop, coffee, monthly):
    lonely = ProductFactory(shop=shop, title="Mug")
    VariantFactory(shop=shop, product=lonely)
    assert client.get(product_url(shop, lonely)).status_code == 404


def test_adding_another_shops_plan_or_variant_is_refused(client, shop, coffee, monthly):
    other = ShopFactory()
    foreign_plan = PlanFactory(shop=other)
    foreign_variant = VariantFactory(shop=other)
    for data in (
        {"variant": coffee.small.pk, "plan": foreign_plan.pk, "quantity": 1},
        {"variant": foreign_variant.pk, "plan": monthly.pk, "quantity": 1},
        {"variant": coffee.small.pk, "plan": monthly.pk, "quantity": 0},
    ):
        response = client.post(product_url(shop, coffee), data)
        assert response.status_code == 400
    assert client.session.get("subscribe_cart", {}).get(str(shop.pk), []) == []


# ---------------------------------------------------------------- the happy path


def test_checkout_creates_everything_signs_in_and_confirms(client, shop, coffee, monthly):
    add(client, shop, coffee.small, monthly, quantity=2)
    checkout = open_checkout(client, shop)
    page = client.get(checkout_url(shop)).content.decode()
    assert "36.00 USD" in page  # first charge today: 2 × 18.00

    response = client.post(checkout_url(shop), details(checkout.token))
    assert response.status_code == 302
    assert response.url == f"/subscribe/{shop.domain}/done/{checkout.token}/"

    customer = Customer.objects.get(shop=shop)
    assert (customer.email, customer.first_name, customer.last_name) == ("new@example.com", "Grace", "Hopper")
    sub = Subscription.objects.get(customer=customer)
    assert sub.plan == monthly and sub.status == Subscription.Status.ACTIVE
    assert sub.next_billing_date == add_interval(shop.local_today(), "month", 1)
    assert sub.shipping_address.postal_code == "62701"
    assert (sub.payment_method.brand, sub.payment_method.last4) == ("Visa", "4242")
    assert [(line.variant, line.quantity, line.unit_price) for line in sub.lines.all()] == [
        (coffee.small, 2, Decimal("18.00"))
    ]
    order = Order.objects.get(subscription=sub)
    assert (order.status, order.total, order.billing_date) == ("paid", Decimal("36.00"), shop.local_today())
    attempt = order.payment_attempts.get()
    assert attempt.status == PaymentAttempt.Status.SUCCEEDED
    charge = SandboxCharge.objects.get()
    assert (charge.amount, charge.reference) == (Decimal("36.00"), attempt.gateway_reference)
    assert OutboxEvent.objects.filter(shop_id=shop.pk, type="subscription.created").count() == 1
    sub.refresh_from_db()
    assert sub.order_count == 1

    done = client.get(response.url)
    assert done.status_code == 200
    assert "Thank you for subscribing" in done.content.decode()
    assert "36.00 USD" in done.content.decode()
    # Signed in to the portal as the new customer, with the subscription there.
    overview = client.get("/account/")
    assert overview.status_code == 200
    assert [s.pk for s in overview.context["subscriptions"]] == [sub.pk]
    # The cart is empty again.
    assert client.session["subscribe_cart"].get(str(shop.pk)) is None


def test_new_subscription_shows_in_the_console(client, admin_client, shop, coffee, monthly):
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    client.post(checkout_url(shop), details(checkout.token))
    sub = Subscription.objects.get(shop=shop)
    listing = admin_client.get("/admin/subscriptions/subscription/")
    assert listing.status_code == 200
    assert f"/admin/subscriptions/subscription/{sub.pk}/change/" in listing.content.decode()


def test_multi_line_cart_becomes_one_subscription_per_plan(client, shop, coffee, tea, monthly, tea_plan):
    add(client, shop, coffee.small, monthly)
    add(client, shop, coffee.large, monthly)
    add(client, shop, coffee.small, monthly)  # same line again: quantity 2
    add(client, shop, tea.tin, tea_plan, quantity=3)
    add(client, shop, coffee.large, monthly.fortnightly)
    checkout = open_checkout(client, shop)
    response = client.post(checkout_url(shop), details(checkout.token))
    assert response.status_code == 302

    subs = {s.plan_id: s for s in Subscription.objects.filter(shop=shop)}
    assert set(subs) == {monthly.pk, tea_plan.pk, monthly.fortnightly.pk}
    assert {(line.variant_id, line.quantity) for line in subs[monthly.pk].lines.all()} == {
        (coffee.small.pk, 2),
        (coffee.large.pk, 1),
    }
    assert [(line.variant_id, line.quantity) for line in subs[tea_plan.pk].lines.all()] == [(tea.tin.pk, 3)]
    assert len({s.shipping_address_id for s in subs.values()}) == 1  # one shipping address
    assert Customer.objects.filter(shop=shop).count() == 1
    orders = Order.objects.filter(shop=shop)
    assert orders.count() == 3 and all(o.status == "paid" for o in orders)
    # One charge for the whole cart: 2×18 + 54 (monthly) + 3×12 (tea) + 60 (fortnightly, no discount)
    charge = SandboxCharge.objects.get()
    assert charge.amount == Decimal("186.00") == sum(o.total for o in orders)
    assert OutboxEvent.objects.filter(shop_id=shop.pk, type="subscription.created").count() == 3


def test_removing_a_cart_line(client, shop, coffee, tea, monthly, tea_plan):
    add(client, shop, coffee.small, monthly)
    add(client, shop, tea.tin, tea_plan)
    client.post(f"/subscribe/{shop.domain}/cart/remove/", {"line": "0"})
    lines = client.get(checkout_url(shop)).context["groups"]
    assert [g.plan for g in lines] == [tea_plan]


def test_double_submit_charges_once(client, shop, coffee, monthly):
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    first = client.post(checkout_url(shop), details(checkout.token))
    # The browser sends the form again (double click, back button and resubmit).
    add(client, shop, coffee.small, monthly)
    second = client.post(checkout_url(shop), details(checkout.token))
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert SandboxCharge.objects.count() == 1
    assert Subscription.objects.filter(shop=shop).count() == 1
    assert Order.objects.filter(shop=shop).count() == 1


def test_discount_code_is_taken_off_the_first_charge(client, shop, coffee, monthly):
    DiscountCodeFactory(shop=shop, code="WELCOME10", value=Decimal("10"), duration="first_payment")
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    client.post(checkout_url(shop), details(checkout.token, code="welcome10"))
    order = Order.objects.get(shop=shop)
    assert (order.subtotal, order.discount_total, order.total) == (
        Decimal("18.00"),
        Decimal("1.80"),
        Decimal("16.20"),
    )
    assert SandboxCharge.objects.get().amount == Decimal("16.20")
    assert DiscountCode.objects.get(code="WELCOME10").times_used == 1
    # First payment only: the renewal has nothing left of it.
    assert Subscription.objects.get(shop=shop).discounts.get().payments_remaining == 0


def test_referral_code_gives_the_referee_discount(client, shop, coffee, monthly):
    from loyalty.models import LoyaltyProgram, Referral
    from loyalty.services import referral_code_generate

    referee_code = DiscountCodeFactory(shop=shop, code="FRIEND5", value=Decimal("5"), kind="fixed")
    LoyaltyProgram.objects.create(shop=shop, enabled=True, referee_discount=referee_code, referrer_points=100)
    referrer = CustomerFactory(shop=shop, email="ada@example.com", first_name="Ada")
    code = referral_code_generate(customer=referrer).code
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    response = client.post(checkout_url(shop), details(checkout.token, code=code.lower()))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.referrer == referrer and referral.referee.email == "new@example.com"
    assert Order.objects.get(subscription__isnull=False).total == Decimal("13.00")


def test_one_time_purchase_where_the_shop_allows_it(client, shop, coffee, monthly):
    CheckoutSettings.objects.create(shop=shop, allow_one_time_purchase=True)
    assert "One-time purchase" in client.get(product_url(shop, coffee)).content.decode()
    add(client, shop, coffee.large, "once")
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    assert client.post(checkout_url(shop), details(checkout.token)).status_code == 302
    one_time = Order.objects.get(shop=shop, subscription__isnull=True)
    assert (one_time.total, one_time.status) == (Decimal("60.00"), "paid")
    assert Subscription.objects.filter(shop=shop).count() == 1
    assert SandboxCharge.objects.get().amount == Decimal("78.00")


def test_one_time_purchase_is_refused_where_the_shop_does_not_allow_it(client, shop, coffee, monthly):
    response = client.post(
        product_url(shop, coffee), {"variant": coffee.small.pk, "plan": "once", "quantity": 1}
    )
    assert response.status_code == 400
    assert "once is not one of the available choices" in response.content.decode()


# ---------------------------------------------------------------- existing customers


def test_existing_customer_gets_a_sign_in_link_instead_of_a_duplicate(client, shop, coffee, monthly):
    ada = CustomerFactory(shop=shop, email="ada@example.com", first_name="Ada")
    add(client, shop, coffee.small, monthly)
    checkout = open_checkout(client, shop)
    response = client.post(checkout_url(shop), details(checkout.token, email="ADA@example.com"))
    assert response.status_code == 409
    assert "already have an account" in field_error(response, "email")
    assert Customer.objects.filter(shop=shop).count() == 1
    assert created_counts(shop) == {**NOTHING, "customers": 1}

    # The emailed link signs Ada in and brings her back to her cart.
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    link = re.search(r"https?://\S+?(/account/login/\S+)", mail.outbox[0].body).group(1)
    back = client.get(link)
    assert back.status_code == 302 and back.url == checkout_url(shop)
    page = client.get(checkout_url(shop))
    assert "Signed in as ada@example.com" in page.content.decode()
    checkout = page.context["checkout"]
    data = details(checkout.token)
    del data["email"]
    placed = client.post(checkout_url(shop), data)
    assert placed.status_code == 302
    assert Customer.objects.filter(shop=shop).count() == 1
    assert Subscription.objects.get(shop=shop).customer == ada


def test_magic_link_next_only_goes_to_subscribe_pages(client, shop):
    from portal.services import magic_link_create

    customer = CustomerFactory(shop=shop)
    url = magic_link_create(customer=customer).split("testserver", 1)[-1]
    path = "/account/login/" + url.split("/account/login/", 1)[1]
    response = client.get(path + "?next=https://evil.example/")
    assert response.url == "/account/"


# ---------------------------------------------------------------- refusals: nothing created


@pytest.fixture
def ready(client, shop, coffee, monthly):
    add(client, shop, coffee.small, monthly)
    return open_checkout(client, shop)


@pytest.mark.parametrize(
    ("number", "message"),
    [(CARD_DECLINED, "The card was declined."), (CARD_NO_FUNDS, "The card has insufficient funds.")],
)
def test_refused_card_shows_next_to_the_card_and_creates_nothing(client, shop, ready, number, message):
    response = client.post(checkout_url(shop), details(ready.token, number=number))
    assert response.status_code == 400
    assert field_error(response, "number") == message
    assert created_counts(shop) == NOTHING
    ready.refresh_from_db()
    assert ready.status == Checkout.Status.OPEN and ready.attempt == 2  # the next try uses a new key
    # Another card then goes through, charged once.
    again = client.post(checkout_url(shop), details(ready.token))
    assert again.status_code == 302
    assert SandboxCharge.objects.filter(outcome="succeeded").count() == 1


def test_unreachable_gateway_keeps_the_same_key(client, shop, ready):
    response = client.post(checkout_url(shop), details(ready.token, number=CARD_GATEWAY_DOWN))
    assert response.status_code == 400
    assert "could not reach our payment processor" in field_error(response, "number")
    assert created_counts(shop) == NOTHING
    ready.refresh_from_db()
    assert ready.attempt == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"postal_code": "ABCDE"}, "postal_code", "Enter a ZIP code such as 12345"),
        ({"country": "USA"}, "country", "two-letter country code"),
        ({"country": "1X"}, "country", "two-letter country code"),
        ({"line1": ""}, "line1", "This field is required."),
        ({"city": ""}, "city", "This field is required."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"first_name": ""}, "first_name", "This field is required."),
        ({"number": "4242 4242 4242 4241"}, "number", "That card number is not valid."),
        ({"exp_year": "2001"}, "exp_year", "That card has expired."),
        ({"exp_month": "13"}, "exp_month", "less than or equal to 12"),
        ({"code": "NOPE"}, "code", "The code NOPE does not exist."),
    ],
)
def test_invalid_input_is_shown_next_to_its_field(client, shop, ready, overrides, field, message):
    response = client.post(checkout_url(shop), details(ready.token, **overrides))
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert created_counts(shop) == NOTHING


@pytest.mark.parametrize(
    ("code_fields", "message"),
    [
        (
            {
                "starts_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                "ends_at": dt.datetime(2020, 2, 1, tzinfo=dt.UTC),
            },
            "is not valid at this time",
        ),
        ({"usage_limit": 1, "times_used": 1}, "has been used up"),
        ({"applies_to": "one_time"}, "one-time purchases only"),
        ({"active": False}, "does not exist"),
    ],
)
def test_unusable_discount_code_is_shown_next_to_the_code(client, shop, ready, code_fields, message):
    DiscountCodeFactory(shop=shop, code="SUMMER15", value=Decimal("15"), **code_fields)
    response = client.post(checkout_url(shop), details(ready.token, code="SUMMER15"))
    assert response.status_code == 400
    assert message in field_error(response, "code")
    assert created_counts(shop) == NOTHING
    assert DiscountCode.objects.get(code="SUMMER15").times_used == code_fields.get("times_used", 0)


def test_another_shops_code_is_unknown(client, shop, ready):
    DiscountCodeFactory(shop=ShopFactory(), code="ELSEWHERE", value=Decimal("50"))
    response = client.post(checkout_url(shop), details(ready.token, code="ELSEWHERE"))
    assert response.status_code == 400
    assert "does not exist" in field_error(response, "code")
    assert created_counts(shop) == NOTHING


def test_honeypot_filled_in_is_refused(client, shop, ready):
    response = client.post(checkout_url(shop), details(ready.token, website="https://spam.example"))
    assert response.status_code == 400
    assert created_counts(shop) == NOTHING


def test_rate_limit_per_ip(client, shop, ready, settings):
    settings.SUBSCRIBE_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post(checkout_url(shop), details(ready.token, number=CARD_DECLINED)).status_code == 400
    limited = client.post(checkout_url(shop), details(ready.token))
    assert limited.status_code == 429
    assert limited["Retry-After"] == str(settings.SUBSCRIBE_RATE_WINDOW_SECONDS)
    assert created_counts(shop) == NOTHING
    # Another address is not limited.
    other = client.post(checkout_url(shop), details(ready.token), REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 302


def test_csrf_is_enforced(shop, coffee, monthly):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(product_url(shop, coffee), {"variant": coffee.small.pk}).status_code == 403
    checkout = Checkout.objects.create(shop=shop)
    assert browser.post(checkout_url(shop), details(checkout.token)).status_code == 403
    assert created_counts(shop) == NOTHING


def test_unknown_or_foreign_checkout_token_is_refused(client, shop, ready):
    foreign = Checkout.objects.create(shop=ShopFactory())
    for token in ("not-a-uuid", "3f2b0c1e-0000-4000-8000-000000000000", str(foreign.token)):
        response = client.post(checkout_url(shop), details(token))
        assert response.status_code == 400
    assert created_counts(shop) == NOTHING


def test_empty_cart_is_refused(client, shop, coffee, monthly):
    page = client.get(checkout_url(shop))
    assert "Your cart is empty." in page.content.decode()
    assert page.context["checkout"] is None and not Checkout.objects.exists()
    checkout = Checkout.objects.create(shop=shop)
    response = client.post(checkout_url(shop), details(checkout.token))
    assert response.status_code == 400
    assert "Your cart is empty." in response.content.decode()
    assert created_counts(shop) == NOTHING


def test_sold_out_variant_leaves_the_cart(client, shop, coffee, monthly, ready):
    coffee.small.available = False
    coffee.small.save()
    response = client.post(checkout_url(shop), details(ready.token))
    assert response.status_code == 400
    assert created_counts(shop) == NOTHING


def test_someone_elses_confirmation_is_a_404(client, shop, ready):
    client.post(checkout_url(shop), details(ready.token))
    stranger = Client()
    assert stranger.get(f"/subscribe/{shop.domain}/done/{ready.token}/").status_code == 404


# ---------------------------------------------------------------- a failure after the charge


class RecordingGateway(payments.SandboxGateway):
    def __init__(self):
        self.charges, self.refunds = [], []

    def charge(self, **kwargs):
        result = super().charge(**kwargs)
        self.charges.append((kwargs["idempotency_key"], kwargs["amount"], result.reference))
        return result

    def refund(self, **kwargs):
        self.refunds.append(kwargs)
        return super().refund(**kwargs)


def test_failure_after_the_charge_refunds_it_and_creates_nothing(client, shop, ready, monkeypatch):
    gateway = RecordingGateway()
    monkeypatch.setitem(payments._GATEWAYS, "test", gateway)
    from portal.checkout import services

    real = services.order_record_checkout_payment

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "order_record_checkout_payment", broken)
    response = client.post(checkout_url(shop), details(ready.token))
    assert response.status_code == 503
    assert "Any payment was refunded" in response.content.decode()
    assert created_counts(shop) == NOTHING
    [(key, amount, reference)] = gateway.charges
    assert gateway.refunds == [
        {
            "charge_reference": reference,
            "amount": Decimal("18.00"),
            "currency": "USD",
            "idempotency_key": f"refund-{key}",
        }
    ]
    ready.refresh_from_db()
    assert ready.refunds[0]["charge"] == reference and ready.refunds[0]["status"] == "succeeded"
    assert ready.attempt == 2

    # Trying again charges under a new key, once.
    monkeypatch.setattr(services, "order_record_checkout_payment", real)
    assert client.post(checkout_url(shop), details(ready.token)).status_code == 302
    assert [c[0] for c in gateway.charges] == [key, f"checkout-{ready.token}-2"]
    assert len(gateway.refunds) == 1
    assert Subscription.objects.filter(shop=shop).count() == 1


def test_subscribe_link_command_prints_the_demo_product(shop, coffee, monthly, capsys):
    from django.core.management import call_command

    call_command("subscribe_link", "--shop", shop.domain)
    out = capsys.readouterr().out.strip()
    assert out.endswith(f"/subscribe/{shop.domain}/{coffee.pk}/")


def test_inactive_program_is_not_offered(client, shop, coffee, monthly):
    SubscriptionProgramFactory(shop=shop, name="Old club", active=False).products.set([coffee])
    monthly.program.active = False
    monthly.program.save()
    assert client.get(product_url(shop, coffee)).status_code == 404


def test_a_customer_of_another_shop_is_new_here(client, shop, ready):
    CustomerFactory(shop=ShopFactory(), email="new@example.com")
    response = client.post(checkout_url(shop), details(ready.token))
    assert response.status_code == 302
    assert Customer.objects.get(shop=shop).email == "new@example.com"
    assert not mail.outbox


def test_cart_holds_at_most_twenty_lines(client, shop, coffee, monthly):
    from portal.checkout.selectors import MAX_CART_LINES

    variants = [VariantFactory(shop=shop, product=coffee, title=f"V{i}") for i in range(MAX_CART_LINES - 2)]
    for variant in [coffee.small, coffee.large, *variants]:
        add(client, shop, variant, monthly)
    extra = VariantFactory(shop=shop, product=coffee, title="One too many")
    response = client.post(
        product_url(shop, coffee), {"variant": extra.pk, "plan": monthly.pk, "quantity": 1}
    )
    assert response.status_code == 400
    assert "Your cart is full." in field_error(response, "quantity")
