"""Email templates: compiled with Django's template engine (a private engine: no loaders, no
extra tag libraries), checked when saved, rendered with the event's payload at send time.

The merchant edits only the content; the layout (the shop's name on top, the unsubscribe line at
the bottom of optional notices) is added here, so no edit can remove the unsubscribe link.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.dates import MONTHS
from django.utils.safestring import mark_safe

from notifications.catalogue import Notice
from notifications.locales import layout

# Dates in the payload that customers see: shown in the shop's date format.
DATE_FIELDS = ("skipped_date", "unskipped_date", "auto_resume_date", "order_date", "retry_date")

_ENGINES = {
    True: Engine(autoescape=True, debug=True, libraries={}),
    False: Engine(autoescape=False, debug=True, libraries={}),
}


class TemplateProblem(Exception):
    def __init__(self, line: int | None, reason: str):
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


def compile_template(source: str, *, html: bool):
    """The compiled template, or TemplateProblem naming the line and the reason."""
    try:
        return _ENGINES[html].from_string(source)
    except TemplateSyntaxError as exc:
        debug = getattr(exc, "template_debug", None) or {}
        raise TemplateProblem(debug.get("line"), str(exc)) from exc


def render_source(source: str, context: dict, *, html: bool) -> str:
    return compile_template(source, html=html).render(Context(context, autoescape=html))


def _strftime(date: dt.date, date_format: str, language: str) -> str:
    """The date in the shop's format; a month name (%B) in the shop's language (Django's own
    translations of the month names)."""
    if language != "en" and "%B" in date_format:
        with translation.override(language):
            date_format = date_format.replace("%B", str(MONTHS[date.month]))
    return date.strftime(date_format)


def _shop_date(value, date_format: str, language: str = "en") -> str:
    if not value:
        return ""
    if isinstance(value, dt.date):
        return _strftime(value, date_format, language)
    try:
        return _strftime(dt.date.fromisoformat(str(value)[:10]), date_format, language)
    except ValueError:
        return str(value)


def _relanguage(shown, date_format: str, language: str):
    """A date the event already shows in the shop's format (English month names), with the month
    in the shop's language; anything unreadable is left as it is."""
    if language == "en" or not shown or "%B" not in date_format:
        return shown
    try:
        date = dt.datetime.strptime(str(shown), date_format.replace("%-", "%")).date()
    except ValueError:
        return shown
    return _strftime(date, date_format, language)


def _frequency(unit: str | None, interval, language: str) -> str:
    if not unit:
        return ""
    try:
        count = int(interval or 1)
    except (TypeError, ValueError):
        count = 1
    return layout(language).every(unit, count)


def notice_context(
    *, data: dict, shop_name: str, date_format: str, unsubscribe_link: str = "", language: str = "en"
) -> dict:
    """What a template sees: the payload's flat and nested fields, plus derived ones (dates in the
    shop's format, the amount of the order, the link to update the payment method...)."""
    context = dict(data)
    subscription = data.get("subscription") or {}
    order = data.get("order") or {}
    previous = data.get("previous") or {}
    context.update(
        {
            "shop_name": shop_name,
            "plan": subscription.get("plan", ""),
            "items": subscription.get("items") or [],
            "frequency": _frequency(data.get("frequency_unit"), data.get("frequency_interval"), language),
            "amount": order.get("total") or data.get("amount") or "",
            "currency": order.get("currency") or data.get("currency") or subscription.get("currency", ""),
            "failure_reason": data.get("failure_reason") or data.get("error") or "",
            "update_payment_link": data.get("account_page_link", ""),
            "previous_next_order_date": _shop_date(previous.get("next_billing_date"), date_format, language),
            "unavailable_items": data.get("unavailable_items")
            or ([data["unavailable_item"]] if data.get("unavailable_item") else []),
            "unsubscribe_link": unsubscribe_link,
        }
    )
    for name in ("next_order_date", "new_delivery_date"):
        if name in data:
            context[name] = _relanguage(data[name], date_format, language)
    for name in DATE_FIELDS:
        if name in data:
            context[name] = _shop_date(data[name], date_format, language)
    if not context.get("order_date") and order.get("billing_date"):
        context["order_date"] = _shop_date(order["billing_date"], date_format, language)
    if isinstance(data.get("gift"), dict):
        gift = dict(data["gift"])
        gift["billing_date"] = _shop_date(gift.get("billing_date"), date_format, language)
        context["gift"] = gift
    return context


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(
    *, subject: str, text_body: str, html_body: str, notice: Notice, context: dict, language: str = "en"
) -> RenderedEmail:
    """The email; the layout's fixed words (the unsubscribe line) are in `language`."""
    words = layout(language)
    rendered_subject = " ".join(render_source(subject, context, html=False).split())
    # A paragraph whose condition was false leaves an empty line: keep one blank line at most.
    text = re.sub(r"\n\s*\n(\s*\n)+", "\n\n", render_source(text_body, context, html=False)).strip() + "\n"
    html_content = render_source(html_body, context, html=True)
    footer = {"notice": notice, "unsubscribe_link": context.get("unsubscribe_link", ""), "words": words}
    if notice.optional and footer["unsubscribe_link"]:
        text += f"\n{words.unsubscribe_question} {words.unsubscribe}: {footer['unsubscribe_link']}\n"
    html = render_to_string(
        "notifications/email_layout.html",
        {
            **footer,
            "content": mark_safe(html_content),
            "subject": rendered_subject,
            "shop_name": context["shop_name"],
            "language": language,
        },
    )
    return RenderedEmail(rendered_subject, text, html)
