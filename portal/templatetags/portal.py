import datetime as dt
import functools
import re
from decimal import Decimal

from django import template
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


def format_shop_date(shop, date: dt.date | None) -> str:
    """A date as the shop shows dates to customers (Shop.date_format, a strftime pattern)."""
    if not date:
        return ""
    try:
        return date.strftime(shop.date_format)
    except ValueError:  # a pattern this platform cannot format
        return date.isoformat()


@register.filter
def shop_date(date, shop) -> str:
    return format_shop_date(shop, date)


DEFAULT_BRAND = "#1f6feb"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def brand_text_colour(colour: str) -> str:
    """#000 or #fff, whichever contrasts more with `colour` (#RRGGBB), by WCAG relative luminance."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)
    return "#fff" if 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 else "#000"


@register.filter
def brand_style(shop) -> str:
    """The inline custom properties for <body>: the shop's brand colour and a readable text colour.
    Anything but a #RRGGBB value falls back to the default (nothing else reaches the style)."""
    colour = getattr(shop, "brand_color", "") or ""
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        colour = DEFAULT_BRAND
    colour = colour.lower()
    return f"--brand: {colour}; --brand-text: {brand_text_colour(colour)}"


def variant_options(variants) -> list[tuple[int, str]]:
    """Each variant's <option> for the swap and add-product selects from (id, product title, title,
    price) rows, rendered once per page rather than once per subscription line, escaped and localized
    as `{{ variant.pk }}`, `{{ variant.price }}` ... would be."""
    language = get_language()
    return [
        (pk, _variant_option(pk, product, title, str(price), language))
        for pk, product, title, price in variants
    ]


@functools.lru_cache(maxsize=4096)
def _variant_option(pk, product: str, title: str, price: str, language: str | None) -> str:
    # Keyed by everything shown and the language that localizes it: a changed price is a new entry. The
    # price comes as text, as Decimal("20.0") == Decimal("20.00") would share an entry but not a display.
    return format_html(
        '<option value="{}">{} — {} ({})</option>', localize(pk), product, title, localize(Decimal(price))
    )


@register.filter
def options_except(options: list[tuple[int, str]], variant_id) -> str:
    """The pre-rendered options (each escaped by format_html), leaving out `variant_id` (a line's own
    variant) when given."""
    return mark_safe("".join(html for pk, html in options if pk != variant_id))
