"""Steps of the web-server-kill test that run in their own process, against the database the
environment names (the test's private SQLite file, never the suite's).

    python -m tests.proof.web_scenario setup <n>   # shop, API key, n ACTIVE subscriptions; prints JSON
    python -m tests.proof.web_scenario report      # each subscription's state, activity and events; JSON
"""

import json
import sys

ALL_WRITE = {r: "write" for r in ("subscriptions", "customers", "webhooks", "orders", "loyalty", "discounts")}


def setup(count: int) -> dict:
    from integrations.services import api_key_create
    from tests import factories as f

    shop = f.ShopFactory(timezone="America/New_York", currency="USD")
    _, raw = api_key_create(shop=shop, token_nickname="helpdesk", permissions=ALL_WRITE)
    subscriptions = []
    for _ in range(count):
        variant = f.VariantFactory(product=f.ProductFactory(shop=shop))
        subscription = f.SubscriptionFactory(customer=f.CustomerFactory(shop=shop), lines=[variant])
        subscriptions.append(
            {
                "id": subscription.pk,
                "customer": subscription.customer_id,
                "next_billing_date": subscription.next_billing_date.isoformat(),
            }
        )
    return {"key": raw, "subscriptions": subscriptions}


def _subscription_id(payload) -> int | None:
    data = payload.get("data", payload) if isinstance(payload, dict) else {}
    subscription = data.get("subscription") if isinstance(data, dict) else None
    return subscription.get("id") if isinstance(subscription, dict) else None


def report() -> dict:
    from integrations.models import IdempotencyRecord
    from subscriptions.models import ActivityLog, SkippedDate, Subscription
    from webhooks.models import OutboxEvent

    events: dict[str, list[str]] = {}
    for event in OutboxEvent.objects.order_by("occurred_at"):
        events.setdefault(str(_subscription_id(event.payload)), []).append(event.type)
    state = {}
    for subscription in Subscription.objects.order_by("pk"):
        state[str(subscription.pk)] = {
            "status": subscription.status,
            "next_billing_date": subscription.next_billing_date.isoformat()
            if subscription.next_billing_date
            else None,
            "skipped": SkippedDate.objects.filter(subscription=subscription).count(),
            "activity": list(
                ActivityLog.objects.filter(subscription=subscription)
                .order_by("pk")
                .values_list("action", flat=True)
            ),
            "events": events.get(str(subscription.pk), []),
        }
    records = list(IdempotencyRecord.objects.values_list("key", "status_code"))
    return {"subscriptions": state, "idempotency": records, "unattributed_events": events.get("None", [])}


def main(argv: list[str]) -> None:
    import django

    django.setup()
    if argv[0] == "setup":
        print(json.dumps(setup(int(argv[1]))))
    elif argv[0] == "report":
        print(json.dumps(report()))
    else:
        raise SystemExit(f"unknown step {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
