"""The helpdesk lookup renders with plain functions for speed; it must stay byte-for-byte the
shape the documented serializers give."""

import datetime as dt

from subscriptions.api import smartrr_serializers as s
from subscriptions.selectors import customers_by_email_or_name
from tests import factories as f


def test_fast_render_equals_the_serializers(shop):
    customer = f.CustomerFactory(
        shop=shop,
        email="ren@example.com",
        subscriber_since=dt.datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC),
    )
    sub = f.SubscriptionFactory(customer=customer, lines=2)
    f.SkippedDateFactory(subscription=sub, date=sub.next_billing_date)
    f.SubscriptionFactory(customer=customer, status="PAUSED", auto_resume_date=sub.next_billing_date)
    found = customers_by_email_or_name(shop=shop, text="ren@example.com")
    expected = s.FormattedOrderSerializer(found, many=True).data
    assert [s.formatted_order_dict(c) for c in found] == [dict(item) for item in _plain(expected)]


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
