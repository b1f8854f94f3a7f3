"""The shipped email templates: each notice renders for its event with a realistic payload (the
subject and plain text are compared with committed snapshots), dates in the shop's format, the
signed unsubscribe link only on optional notices; a broken template is refused when saved."""

import os
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from notifications.catalogue import NOTICES
from notifications.models import EmailTemplate
from notifications.services import (
    email_render,
    email_template_save,
    email_templates_ensure,
    unsubscribe_token_read,
)
from tests import factories as f
from tests.notifications.payloads import realistic

SNAPSHOTS = Path(__file__).parent / "snapshots"
# The issue's list: every one of these events has a customer email.
ISSUE_EVENTS = {
    "subscription.created",
    "subscription.upcoming_order",
    "subscription.skipped",
    "subscription.unskipped",
    "subscription.paused",
    "subscription.activated",
    "subscription.auto_resume_upcoming",
    "subscription.canceled",
    "subscription.payment_method_updated",
    "subscription.transaction_failed",
    "subscription.transaction_succeeded",
    "subscription.send_now",
    "subscription.gifted",
    "subscription.next_order_date_changed",
    "subscription.product_unavailable",
    "loyalty.points_earned",
    "loyalty.points_redeemed",
    "loyalty.referral_succeeded",
}


@pytest.fixture
def snapshot_shop(db, settings):
    settings.SECRET_KEY = "snapshot-secret-key-of-the-test-suite"  # signed links are part of the snapshot
    return f.ShopFactory(name="Demo Coffee Co.", date_format="%B %-d, %Y")


def test_every_event_of_the_issue_has_an_email_and_the_gift_recipient_one_too():
    assert {notice.event_type for notice in NOTICES.values()} == ISSUE_EVENTS
    assert NOTICES["subscription.gifted:recipient"].recipient == "gift_recipient"


@pytest.mark.parametrize("key", sorted(NOTICES))
def test_each_default_renders_as_its_snapshot(snapshot_shop, key):
    notice = NOTICES[key]
    rendered = email_render(
        shop=snapshot_shop, notice=notice, template=None, data=realistic(notice.event_type)
    )
    got = f"Subject: {rendered.subject}\n\n{rendered.text}"
    # The signed link names the shop's id, which depends on the database: checked, then masked.
    link = re.search(r"https://subs\.example\.com/notifications/unsubscribe/([^/]+)/", got)
    if link:
        to = "sam.lee@example.com" if notice.recipient == "gift_recipient" else "jane.doe@example.com"
        assert unsubscribe_token_read(link.group(1)) == (snapshot_shop.pk, to)
        got = got.replace(link.group(0), "<unsubscribe link>")
    path = SNAPSHOTS / f"{key.replace(':', '--')}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):  # UPDATE_SNAPSHOTS=1 pytest ...: after a wording change
        path.write_text(got)
    assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert got == path.read_text()
    assert "{{" not in got and "{%" not in got
    # The HTML says the same thing, escaped, inside the layout.
    assert "<h1" in rendered.html and snapshot_shop.name in rendered.html
    if notice.recipient == "customer":
        assert "Hi Jane," in rendered.text and "<p>Hi Jane,</p>" in rendered.html


@pytest.mark.parametrize("key", sorted(NOTICES))
def test_only_optional_notices_carry_an_unsubscribe_link(snapshot_shop, key):
    notice = NOTICES[key]
    rendered = email_render(
        shop=snapshot_shop, notice=notice, template=None, data=realistic(notice.event_type)
    )
    has_link = "/notifications/unsubscribe/" in rendered.text
    assert has_link == ("/notifications/unsubscribe/" in rendered.html) == notice.optional
    assert notice.optional == (
        key not in ("subscription.transaction_failed", "subscription.transaction_succeeded")
    )


def test_dates_are_shown_in_the_shops_format(db):
    shop = f.ShopFactory(date_format="%d/%m/%Y")
    rendered = email_render(
        shop=shop,
        notice=NOTICES["subscription.paused"],
        template=None,
        data={**realistic("subscription.paused"), "auto_resume_date": "2025-06-01"},
    )
    assert "It resumes by itself on 01/06/2025." in rendered.text


def test_the_gift_recipient_gets_no_link_to_the_subscribers_account(snapshot_shop):
    data = realistic("subscription.gifted")
    rendered = email_render(
        shop=snapshot_shop, notice=NOTICES["subscription.gifted:recipient"], template=None, data=data
    )
    assert data["account_page_link"] not in rendered.text + rendered.html
    assert "Hi Sam," in rendered.text and "Their message: \u201cEnjoy!\u201d" in rendered.text


def test_customer_text_is_escaped_in_html_but_not_in_plain_text(snapshot_shop):
    data = {**realistic("subscription.created"), "first_name": "<b>Jo</b> & Co"}
    rendered = email_render(
        shop=snapshot_shop, notice=NOTICES["subscription.created"], template=None, data=data
    )
    assert "Hi <b>Jo</b> & Co," in rendered.text
    assert "&lt;b&gt;Jo&lt;/b&gt; &amp; Co" in rendered.html and "<b>Jo</b>" not in rendered.html


@pytest.mark.parametrize(
    ("field", "source", "expected"),
    [
        ("text_body", "Hi {{ first_name }},\n\nLine two\n{% if next_order_date %}\nno end", "Line 4:"),
        (
            "html_body",
            "<p>ok</p>\n<p>{{ first_name|nosuchfilter }}</p>",
            "Line 2: Invalid filter: 'nosuchfilter'",
        ),
        ("subject", "Order {% for %}", "Line 1:"),
        ("text_body", "{% include 'secrets.txt' %}", "TemplateDoesNotExist"),
    ],
)
def test_a_broken_template_is_refused_when_saved_with_line_and_reason(snapshot_shop, field, source, expected):
    email_templates_ensure(shop=snapshot_shop)
    template = EmailTemplate.objects.get(shop=snapshot_shop, key="subscription.upcoming_order")
    before = (template.subject, template.text_body, template.html_body)
    values = {"subject": template.subject, "text_body": template.text_body, "html_body": template.html_body}
    values[field] = source
    with pytest.raises(ValidationError) as refused:
        email_template_save(template=template, enabled=True, **values)
    assert expected in refused.value.message_dict[field][0]
    template.refresh_from_db()
    assert (template.subject, template.text_body, template.html_body) == before
