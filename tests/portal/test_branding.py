"""Shop branding on the portal: the logo, the brand colour with a readable text colour, and the
console's Shop form refusing a colour that is not #RRGGBB."""

import pytest
from django.contrib.admin.sites import site

from portal.templatetags.portal import brand_style, brand_text_colour
from subscriptions.models import Shop

pytestmark = pytest.mark.django_db


def test_portal_shows_logo_and_brand_colour(signed_in, shop, sub):
    shop.logo_url = "https://cdn.example/logo.png"
    shop.brand_color = "#FFD400"
    shop.save()
    page = signed_in.get("/account/").content.decode()
    assert '<img class="shop-logo" src="https://cdn.example/logo.png" alt="Portal Shop">' in page
    # Yellow is light: black text on it.
    assert '<body style="--brand: #ffd400; --brand-text: #000">' in page


def test_default_colour_and_no_logo(signed_in, shop, sub):
    page = signed_in.get("/account/").content.decode()
    assert '<body style="--brand: #1f6feb; --brand-text: #fff">' in page
    assert "shop-logo" not in page and "Portal Shop</p>" in page


def test_login_page_is_branded_too(client, shop):
    shop.brand_color = "#123456"
    shop.save()
    page = client.get("/account/login?shop=portal-shop.example").content.decode()
    assert "--brand: #123456; --brand-text: #fff" in page


@pytest.mark.parametrize(
    ("colour", "text"),
    [("#000000", "#fff"), ("#ffffff", "#000"), ("#1f6feb", "#fff"), ("#ffd400", "#000"), ("#a4161a", "#fff")],
)
def test_text_colour_follows_luminance(colour, text):
    assert brand_text_colour(colour) == text


def test_a_bad_stored_colour_never_reaches_the_style():
    shop = Shop(brand_color='red;"><script>')
    assert brand_style(shop) == "--brand: #1f6feb; --brand-text: #fff"


def _shop_form(rf, admin_user, shop, **changes):
    model_admin = site._registry[Shop]
    request = rf.post("/")
    request.user = admin_user
    form_class = model_admin.get_form(request, shop, change=True)
    data = {field: getattr(shop, field) for field in form_class.base_fields if field not in ("billing_time",)}
    data["billing_time"] = shop.billing_time.strftime("%H:%M:%S")
    data.update(changes)
    return form_class(data, instance=shop)


@pytest.mark.parametrize("colour", ["blue", "#12345", "#1234567", "#GGGGGG", "123456"])
def test_admin_refuses_a_bad_colour(rf, admin_user, shop, colour):
    form = _shop_form(rf, admin_user, shop, brand_color=colour)
    assert not form.is_valid()
    assert "brand_color" in form.errors


def test_admin_saves_branding(rf, admin_user, shop):
    form = _shop_form(rf, admin_user, shop, brand_color="#0a7a3b", logo_url="https://cdn.example/l.svg")
    assert form.is_valid(), form.errors
    form.save()
    shop.refresh_from_db()
    assert (shop.brand_color, shop.logo_url) == ("#0a7a3b", "https://cdn.example/l.svg")
