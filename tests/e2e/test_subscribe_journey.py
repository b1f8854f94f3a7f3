"""A shopper's whole hosted checkout in a real browser: the subscribe page, a two-plan cart, a
declined card shown next to the card field, then a good card, the confirmation and the portal."""

import datetime as dt
from decimal import Decimal

import pytest

from portal.checkout.models import Checkout
from subscriptions.models import Customer, Order, Plan, SandboxCharge, Subscription
from tests.factories import (
    PlanFactory,
    ProductFactory,
    ShopFactory,
    SubscriptionProgramFactory,
    VariantFactory,
)

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package").expect

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_SCREENSHOT = "/tmp/subscribe-phone.png"


@pytest.fixture
def catalogue():
    shop = ShopFactory(domain="beans.example", name="Beans", date_format="%d/%m/%Y")
    coffee = ProductFactory(shop=shop, title="House Coffee")
    VariantFactory(shop=shop, product=coffee, title="250 g", price=Decimal("20.00"))
    VariantFactory(shop=shop, product=coffee, title="1 kg", price=Decimal("60.00"))
    tea = ProductFactory(shop=shop, title="Green Tea")
    VariantFactory(shop=shop, product=tea, title="Tin", price=Decimal("12.00"))
    club = SubscriptionProgramFactory(shop=shop, name="Coffee Club")
    club.products.set([coffee])
    PlanFactory(
        program=club,
        name="Every month",
        discount_type=Plan.DiscountType.PERCENTAGE,
        discount_value=Decimal("10"),
    )
    PlanFactory(program=club, name="Every 2 weeks", interval_unit="week", interval_count=2)
    tea_club = SubscriptionProgramFactory(shop=shop, name="Tea Club")
    tea_club.products.set([tea])
    PlanFactory(program=tea_club, name="Monthly tea")
    return shop, coffee, tea


def fill_details(page, number):
    page.get_by_label("Email address").fill("grace@example.com")
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Address", exact=True).fill("1 Main St")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("State or province").fill("IL")
    page.get_by_label("Postal code").fill("62701")
    page.get_by_label("Country code (for example US)").fill("us")
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry month").fill("12")
    page.get_by_label("Expiry year").fill(str(dt.date.today().year + 2))


def test_full_checkout_ends_in_the_portal(page, live_server, catalogue):
    shop, coffee, tea = catalogue

    # The subscribe page: option, frequency (with its savings), quantity.
    page.goto(f"{live_server.url}/subscribe/{shop.domain}/{coffee.pk}/")
    expect(page.get_by_role("heading", name="House Coffee", level=1)).to_be_visible()
    expect(page.get_by_text("Coffee Club: Every month (every month) — save 10%")).to_be_visible()
    page.get_by_label("Option").select_option(label="1 kg — 60.00 USD")
    page.get_by_label("Coffee Club: Every month (every month) — save 10%").check()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.locator("#first-charge")).to_have_text("108.00 USD")

    # A second line on another plan.
    page.goto(f"{live_server.url}/subscribe/{shop.domain}/{tea.pk}/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#first-charge")).to_have_text("120.00 USD")
    cart = page.get_by_role("region", name="Your cart")
    expect(
        cart.get_by_role("heading", name="Subscription: Coffee Club — Every month (every month)")
    ).to_be_visible()
    expect(
        cart.get_by_role("heading", name="Subscription: Tea Club — Monthly tea (every month)")
    ).to_be_visible()

    # Phone-sized: nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, (
        "checkout scrolls sideways on a phone"
    )
    page.screenshot(path=PHONE_SCREENSHOT, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # A declined card: the error sits next to the card number, nothing is created.
    fill_details(page, "4000 0000 0000 0002")
    page.get_by_role("button", name="Place order and pay 120.00 USD").click()
    card = page.get_by_label("Card number")
    expect(card).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_number-error")).to_have_text("The card was declined.")
    assert Customer.objects.filter(shop=shop).count() == 0
    assert Subscription.objects.filter(shop=shop).count() == 0

    # The form kept what was typed; a good card places the order.
    expect(page.get_by_label("Email address")).to_have_value("grace@example.com")
    card.fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Place order and pay 120.00 USD").click()
    expect(page.get_by_role("heading", name="Thank you for subscribing")).to_be_visible()
    expect(page.locator("#charged-total")).to_have_text("120.00 USD")

    customer = Customer.objects.get(shop=shop)
    subs = list(Subscription.objects.filter(customer=customer).order_by("id"))
    assert [s.plan.name for s in subs] == ["Every month", "Monthly tea"]
    assert SandboxCharge.objects.filter(outcome="succeeded").get().amount == Decimal("120.00")
    assert Order.objects.filter(customer=customer, status="paid").count() == 2
    assert Checkout.objects.get(shop=shop, status="completed").customer == customer

    # Straight into the portal, signed in.
    page.get_by_role("link", name="Manage your subscriptions").click()
    expect(page.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    expect(page.get_by_role("heading", name="Coffee Club")).to_be_visible()
    expect(page.get_by_role("heading", name="Tea Club")).to_be_visible()
    next_date = subs[0].next_billing_date.strftime(shop.date_format)
    expect(page.get_by_text(next_date).first).to_be_visible()
