"""Realistic event payloads for every notice: the documented sample of each event (the same shape
the services emit), with the fields each service adds (`order`, `retry_date`, `reward`...)."""

from webhooks.registry import sample_data

# What the services put beside the common fields (subscriptions.services, loyalty.services).
REAL_EXTRAS = {
    "subscription.upcoming_order": {"days_until_order": 3, "order_date": "2025-04-01"},
    "subscription.skipped": {"skipped_date": "2025-04-01", "next_order_date": "April 15, 2025"},
    "subscription.auto_resume_upcoming": {"auto_resume_date": "2025-06-01", "days_until_resume": 7},
    "subscription.transaction_succeeded": {
        "order": {
            "id": 9001,
            "billing_date": "2025-04-01",
            "status": "paid",
            "subtotal": "29.00",
            "discount_total": "0.00",
            "total": "29.00",
            "currency": "USD",
            "is_gift": False,
            "attempt_count": 1,
            "next_retry_date": None,
        },
        "next_order_date": "April 15, 2025",
    },
    "subscription.transaction_failed": {
        "order": {"id": 9002, "billing_date": "2025-04-01", "total": "29.00", "currency": "USD"},
        "failure_reason": "Your card was declined.",
        "failure_code": "card_declined",
        "retry_date": "2025-04-04",
    },
    "subscription.product_unavailable": {
        "unavailable_items": [],
        "unavailable_item": {
            "product": "House blend coffee",
            "variant": "Whole bean / 1 lb",
            "sku": "HB-WB-1LB",
        },
    },
    "loyalty.points_redeemed": {"reward": {"id": 4, "name": "$5 off your next order", "kind": "discount"}},
}


def realistic(event_type: str) -> dict:
    data = sample_data(event_type, None)
    data.update(REAL_EXTRAS.get(event_type, {}))
    return data
