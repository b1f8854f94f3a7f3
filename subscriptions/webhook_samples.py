"""Sample event data for the console's "Send test event" / "Sample payload" and the API docs.

Registered with `webhooks.registry` at start-up (webhooks imports no other app). Built from the
shop's first subscription when it has one (read only), otherwise from made-up but believable
values; either way nothing is written.
"""

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from subscriptions.events import account_page_link, customer_data, subscription_data
from subscriptions.models import Shop, Subscription

SAMPLE_DATE = dt.date(2025, 4, 1)


def _static_customer() -> dict[str, Any]:
    return {
        "id": 1042,
        "email": "jane.doe@example.com",
        "first_name": "Jane",
        "last_name": "Doe",
        "phone": "+15555550123",
        "has_logged_in": True,
        "subscriber_since": "2024-11-02T15:04:05+00:00",
        "external_id": "gid://shopify/Customer/7001234567",
    }


def _static_subscription() -> dict[str, Any]:
    return {
        "id": 3177,
        "status": "ACTIVE",
        "program": "Coffee club",
        "plan": "Every 2 weeks",
        "frequency_unit": "week",
        "frequency_interval": 2,
        "next_billing_date": SAMPLE_DATE.isoformat(),
        "auto_resume_date": None,
        "cancel_reason": "",
        "order_count": 5,
        "currency": "USD",
        "created_at": "2024-11-02T15:04:05+00:00",
        "external_id": "gid://shopify/SubscriptionContract/88001",
        "items": [
            {
                "id": 5521,
                "product": "House blend coffee",
                "variant": "Whole bean / 1 lb",
                "sku": "HB-WB-1LB",
                "quantity": 2,
                "price": "14.50",
                "currency": "USD",
            }
        ],
    }


def _extras(event_type: str, subscription: dict[str, Any]) -> tuple[dict, dict]:
    """(previous, extra fields) that each event type carries beside the common ones."""
    date = subscription.get("next_billing_date") or SAMPLE_DATE.isoformat()
    return {
        "subscription.skipped": ({}, {"skipped_date": date}),
        "subscription.unskipped": ({}, {"unskipped_date": date}),
        "subscription.paused": ({"status": "ACTIVE"}, {"auto_resume_date": "2025-06-01"}),
        "subscription.activated": ({"status": "PAUSED"}, {}),
        "subscription.canceled": ({"status": "ACTIVE"}, {"cancel_reason": "Too much coffee"}),
        "subscription.next_order_date_changed": ({"next_billing_date": "2025-03-25"}, {}),
        "subscription.send_now": ({"next_billing_date": "2025-03-25"}, {}),
        "subscription.gifted": (
            {},
            {
                "gift": {
                    "billing_date": date,
                    "recipient_first_name": "Sam",
                    "recipient_last_name": "Lee",
                    "recipient_email": "sam.lee@example.com",
                    "message": "Enjoy!",
                }
            },
        ),
        "subscription.payment_method_updated": (
            {"payment_method": {"brand": "visa", "last4": "4242"}},
            {"payment_method": {"brand": "mastercard", "last4": "4444", "exp_month": 9, "exp_year": 2029}},
        ),
        "subscription.transaction_succeeded": ({}, {"amount": "29.00", "currency": "USD"}),
        "subscription.transaction_failed": (
            {},
            {"amount": "29.00", "currency": "USD", "error": "Your card was declined."},
        ),
        "subscription.product_unavailable": ({}, {"unavailable_items": subscription.get("items", [])[:1]}),
        "customer.deactivated": ({}, {"last_subscription_id": subscription.get("id")}),
        "loyalty.points_earned": ({}, {"points": 50, "balance": 350, "reason": "Subscription renewal"}),
        "loyalty.bonus_points_earned": ({}, {"points": 100, "balance": 450, "reason": "Birthday bonus"}),
        "loyalty.referral_succeeded": ({}, {"points": 200, "balance": 650, "referral_code": "JANE-5K2Q"}),
        "loyalty.points_redeemed": ({}, {"points": 500, "balance": 150, "discount_code": "REWARD-7HX2"}),
        "loyalty.referral_code_generated": ({}, {"referral_code": "JANE-5K2Q"}),
    }.get(event_type, ({}, {}))


def _from_shop(shop_id: int) -> tuple[dict, dict, str] | None:
    subscription = (
        Subscription.objects.filter(shop_id=shop_id)
        .select_related("customer", "plan__program", "shop")
        .order_by("id")
        .first()
    )
    if subscription is None:
        return None
    return (
        customer_data(subscription.customer),
        subscription_data(subscription),
        account_page_link(subscription),
    )


def sample_data(event_type: str, shop_id: int | None) -> dict[str, Any]:
    real = _from_shop(shop_id) if shop_id is not None else None
    if real is not None:
        customer, subscription, link = real
    else:
        customer, subscription = _static_customer(), _static_subscription()
        link = f"https://your-shop.example/account/subscriptions/{subscription['id']}/"
    previous, extra = _extras(event_type, subscription)
    next_date = str(subscription.get("next_billing_date") or SAMPLE_DATE.isoformat())[:10]
    shown = dt.date.fromisoformat(next_date).strftime("%B %-d, %Y")
    data: dict[str, Any] = {"customer": customer}
    if event_type.startswith("subscription."):
        data["subscription"] = subscription
        data["previous"] = previous
    data.update(
        {
            "first_name": customer["first_name"],
            "account_page_link": link,
            "next_order_date": shown,
            "new_delivery_date": shown,
            "frequency_unit": subscription["frequency_unit"],
            "frequency_interval": subscription["frequency_interval"],
        }
    )
    data.update(extra)
    # The same JSON the outbox stores: dates, decimals and ids as strings.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def shop_domain(shop_id: int) -> str:
    return Shop.objects.filter(pk=shop_id).values_list("domain", flat=True).first() or str(shop_id)
