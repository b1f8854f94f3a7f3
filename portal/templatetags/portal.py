import datetime as dt

from django import template

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
