"""The seed's Gorgias set-up, replayed literally: look the ticket's customer up, then skip
`data[0].sts[0]` with the URL built from the ids the lookup returned."""

import datetime as dt

from subscriptions.models import ActivityLog, SkippedDate
from tests import factories as f


def test_lookup_then_skip_url_skips_the_most_recent_subscription(api, shop, admin_client):
    customer = f.CustomerFactory(shop=shop, email="jane@example.com", first_name="Jane", last_name="Doe")
    older = f.SubscriptionFactory(customer=customer, created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    recent = f.SubscriptionFactory(customer=customer)
    f.CustomerFactory(shop=shop, email="janet@example.com", first_name="Janet", last_name="Jane")

    lookup = api.get("/vendor/order/formatted?filterLike[emailOrName]=jane@example.com")
    assert lookup.status_code == 200, lookup.content
    data = lookup.json()["data"]
    assert data[0]["custRel"]["email"] == "jane@example.com"
    assert data[0]["custRel"]["hasLoggedIn"] is False
    assert [st["id"] for st in data[0]["sts"]] == [recent.pk, older.pk]
    next_date = data[0]["sts"][0]["nextBillingDate"]
    assert next_date == recent.next_billing_date.isoformat()

    skip_url = f"/vendor/customer/{data[0]['custRel']['id']}/purchase-state/{data[0]['sts'][0]['id']}/skip"
    skipped = api.put(skip_url)
    assert skipped.status_code == 200, skipped.content
    body = skipped.json()
    assert body["skippedDates"] == [next_date]
    assert body["nextBillingDate"] > next_date

    assert SkippedDate.objects.filter(
        subscription=recent, date=recent.next_billing_date, unskipped_at__isnull=True
    ).exists()
    log = ActivityLog.objects.get(subscription=recent, action="skipped")
    assert log.actor_type == "api"
    # The merchant sees it in the console.
    page = admin_client.get(f"/admin/subscriptions/subscription/{recent.pk}/change/")
    assert page.status_code == 200
    assert b"skipped" in page.content.lower()
