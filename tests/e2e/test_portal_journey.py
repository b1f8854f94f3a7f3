"""The customer's whole journey through the portal in a real browser: sign in by magic link, then
every lifecycle action from the subscription page, checking what the page shows after each step."""

import datetime as dt
import re

import pytest
from django.core import mail

from subscriptions.models import Subscription
from tests.factories import CustomerFactory, ProductFactory, ShopFactory, SubscriptionFactory, VariantFactory

expect = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package").expect

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "ada@example.com"
PHONE_SCREENSHOT = "/tmp/portal-phone.png"


@pytest.fixture
def shop():
    return ShopFactory(domain="portal-shop.example", name="Portal Shop", date_format="%d/%m/%Y")


@pytest.fixture
def sub(shop):
    customer = CustomerFactory(shop=shop, email=EMAIL)
    coffee = VariantFactory(shop=shop, product=ProductFactory(shop=shop, title="House Coffee"), title="250 g")
    VariantFactory(shop=shop, product=ProductFactory(shop=shop, title="Decaf Coffee"), title="500 g")
    return SubscriptionFactory(customer=customer, lines=[coffee])


def fmt(shop, date: dt.date) -> str:
    return date.strftime(shop.date_format)


def sign_in(page, live_server, shop, email=EMAIL):
    page.goto(f"{live_server.url}/account/login?shop={shop.domain}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_text("Check your email")).to_be_visible()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [email]
    link = re.search(r"https?://\S+?(/account/login/\S+/)", mail.outbox[0].body).group(1)
    page.goto(live_server.url + link)


def status_badge(page):
    return page.locator("h1 .status")


def message(page):
    return page.get_by_role("status")


def test_customer_journey(page, live_server, shop, sub):
    sign_in(page, live_server, shop)

    # Overview
    expect(page.get_by_role("heading", name="Your subscriptions")).to_be_visible()
    expect(page.get_by_text(fmt(shop, sub.next_billing_date)).first).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(sub.plan.program.name))).to_be_visible()
    page.get_by_role("link", name="Manage subscription").click()
    expect(page).to_have_url(f"{live_server.url}/account/subscriptions/{sub.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(sub.plan.program.name)
    expect(status_badge(page)).to_have_text("ACTIVE")
    next_order = page.locator("#next-order-date")
    expect(next_order).to_have_text(fmt(shop, sub.next_billing_date))

    # Skip, then unskip
    original = sub.next_billing_date
    after_skip = sub.date_after(original)
    page.get_by_role("button", name="Skip next order").click()
    expect(message(page)).to_have_text(
        f"Your next order was skipped. Your next order is on {fmt(shop, after_skip)}."
    )
    expect(next_order).to_have_text(fmt(shop, after_skip))
    page.get_by_role("button", name="Unskip").click()
    expect(message(page)).to_contain_text("Your skipped order is back on.")
    expect(next_order).to_have_text(fmt(shop, original))
    expect(page.get_by_role("button", name="Unskip")).to_have_count(0)

    # Change date
    target = original + dt.timedelta(days=5)
    page.get_by_label("New next order date").fill(target.isoformat())
    page.get_by_role("button", name="Change date").click()
    expect(message(page)).to_contain_text(f"Your next order is on {fmt(shop, target)}.")
    expect(next_order).to_have_text(fmt(shop, target))
    sub.refresh_from_db()
    assert sub.next_billing_date == target

    # Pause and resume
    pause = page.get_by_role("region", name="Pause")
    pause.get_by_label("Pause for").select_option(label="2 months")
    pause.get_by_role("button", name="Pause").click()
    expect(message(page)).to_contain_text("Your subscription is paused. It resumes on")
    expect(status_badge(page)).to_have_text("PAUSED")
    expect(page.get_by_role("button", name="Skip next order")).to_have_count(0)
    page.get_by_role("button", name="Resume").click()
    expect(message(page)).to_contain_text("Your subscription is active again.")
    expect(status_badge(page)).to_have_text("ACTIVE")

    # Gift next order
    gift = page.get_by_role("region", name="Gift next order")
    gift.get_by_label("Recipient's first name").fill("Grace")
    gift.get_by_label("Recipient's last name").fill("Hopper")
    gift.get_by_label("Recipient's email").fill("grace@example.com")
    gift.get_by_label(re.compile(r"^Address:?$")).fill("1 Main St")
    gift.get_by_label("City").fill("Arlington")
    gift.get_by_label("Country code (for example US)").fill("us")
    gift.get_by_role("button", name="Gift next order").click()
    expect(message(page)).to_contain_text("Your next order will go to Grace as a gift.")
    assert sub.gifts.get().recipient_email == "grace@example.com"

    # Swap
    products = page.get_by_role("region", name="Products")
    expect(products.get_by_role("heading", name="House Coffee — 250 g")).to_be_visible()
    products.get_by_label("Swap for").select_option(label="Decaf Coffee — 500 g (20.00)")
    products.get_by_role("button", name="Swap", exact=True).click()
    expect(message(page)).to_contain_text("Product swapped.")
    expect(products.get_by_role("heading", name="Decaf Coffee — 500 g")).to_be_visible()
    expect(products.get_by_role("heading", name="House Coffee — 250 g")).to_have_count(0)

    # Phone-sized screenshot of the subscription page
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(status_badge(page)).to_have_text("ACTIVE")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "page scrolls sideways on a phone"
    page.screenshot(path=PHONE_SCREENSHOT, full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Cancel with a reason: the retention offer comes first, then cancel anyway
    cancel = page.get_by_role("region", name="Cancel subscription")
    cancel.get_by_label("Why are you cancelling?").select_option(label="I have too much product")
    cancel.get_by_label("Anything else you want to tell us (optional)").fill("Cupboard is full")
    cancel.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_role("heading", name="Before you cancel")).to_be_visible()
    expect(page.get_by_role("button", name="Delay by a month")).to_be_visible()
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
    page.get_by_role("region", name="Still want to cancel?").get_by_role(
        "button", name="Cancel subscription"
    ).click()
    expect(message(page)).to_contain_text("Your subscription is cancelled.")
    expect(status_badge(page)).to_have_text("CANCELLED")
    expect(page.get_by_role("button", name="Skip next order")).to_have_count(0)
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.CANCELLED
    assert "Cupboard is full" in sub.cancel_reason

    # Sign out
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/account/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
