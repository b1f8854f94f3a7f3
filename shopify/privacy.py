"""Shopify's mandatory privacy webhooks, honoured.

- `customers/data_request`: everything held about the customer is gathered into the request's
  export, for the merchant to send to the customer (Integrations > Shopify privacy requests).
- `customers/redact`: the customer's personal data is erased here: name, email, phone and every
  address (theirs, their orders' and gift recipients'); live subscriptions are cancelled first,
  since nothing could be shipped to an erased address. Orders stay, anonymous, for the books.
- `shop/redact` (48 hours after the store uninstalled the app): every customer of the shop is erased
  that way and the store connection forgets its keys.
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration
from shopify.connection import ACTOR, KEY
from shopify.models import PrivacyRequest
from subscriptions.models import Address, Customer, Gift, Order, Shop, Subscription
from subscriptions.services import subscription_cancel

LIVE = (Subscription.Status.ACTIVE, Subscription.Status.PAUSED)
ERASED = "erased"


def _customer(shop: Shop, shopify_customer: dict) -> Customer | None:
    shopify_id = str(shopify_customer.get("id") or "")
    email = (shopify_customer.get("email") or "").strip()
    found = Customer.objects.filter(shop=shop, external_id=shopify_id).first() if shopify_id else None
    if found is None and email:
        found = Customer.objects.filter(shop=shop, email__iexact=email).first()
    return found


def customer_export(customer: Customer) -> dict:
    """What we hold about one customer, as plain JSON."""

    def rows(queryset, *fields):
        return [
            {f: (str(v) if v is not None else None) for f, v in row.items()}
            for row in queryset.values(*fields)
        ]

    export = {
        "customer": rows(
            Customer.objects.filter(pk=customer.pk),
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "external_id",
            "created_at",
            "subscriber_since",
        )[0],
        "addresses": rows(
            customer.addresses.all(),
            "first_name",
            "last_name",
            "line1",
            "line2",
            "city",
            "province",
            "postal_code",
            "country",
            "phone",
        ),
        "subscriptions": rows(
            customer.subscriptions.all(), "id", "status", "next_billing_date", "created_at", "cancelled_at"
        ),
        "orders": [
            {**o, "shipping_address": o["shipping_address"]}
            for o in customer.orders.values(
                "id", "billing_date", "status", "currency", "total", "shipping_address", "external_id"
            )
        ],
    }
    # Dates and amounts as text, the way they are stored in JSON everywhere else.
    return json.loads(json.dumps(export, cls=DjangoJSONEncoder))


@transaction.atomic
def customer_erase(*, customer: Customer) -> None:
    """Anonymise one customer. Their live subscriptions are cancelled (through the service, so the
    cancellation is logged and announced), then every personal field is blanked."""
    for sub in Subscription.objects.filter(customer=customer, status__in=LIVE):
        subscription_cancel(subscription=sub, actor=ACTOR, reason="Customer data erased on request")
    blank_address = {
        "first_name": "", "last_name": "", "line1": ERASED, "line2": "", "city": ERASED,
        "province": "", "postal_code": "", "phone": "",
    }  # fmt: skip
    Address.objects.filter(customer=customer).update(**blank_address)
    Gift.objects.filter(subscription__customer=customer).update(
        recipient_first_name=ERASED,
        recipient_last_name="",
        recipient_email="",
        message="",
        **{
            k: v
            for k, v in blank_address.items()
            if k in ("line1", "line2", "city", "province", "postal_code")
        },
    )
    Order.objects.filter(customer=customer).update(shipping_address={})
    Customer.objects.filter(pk=customer.pk).update(
        email=f"erased-{customer.pk}@erased.invalid",
        first_name="",
        last_name="",
        phone="",
        stripe_customer_id="",
    )


def _record(shop: Shop, topic: str, **fields) -> PrivacyRequest:
    return PrivacyRequest.objects.create(shop=shop, topic=topic, completed_at=timezone.now(), **fields)


@transaction.atomic
def customer_data_request(*, shop: Shop, payload: dict) -> PrivacyRequest:
    shopify_customer = payload.get("customer") or {}
    customer = _customer(shop, shopify_customer)
    export = customer_export(customer) if customer is not None else {}
    return _record(
        shop,
        PrivacyRequest.Topic.CUSTOMER_DATA_REQUEST,
        customer=customer,
        shopify_customer_id=str(shopify_customer.get("id") or ""),
        data_request_id=str((payload.get("data_request") or {}).get("id") or ""),
        export=export,
        outcome="Export ready: send it to the customer."
        if customer is not None
        else "No data is held about this customer.",
    )


@transaction.atomic
def customer_redact(*, shop: Shop, payload: dict) -> PrivacyRequest:
    shopify_customer = payload.get("customer") or {}
    customer = _customer(shop, shopify_customer)
    if customer is not None:
        customer_erase(customer=customer)
    return _record(
        shop,
        PrivacyRequest.Topic.CUSTOMER_REDACT,
        customer=customer,
        shopify_customer_id=str(shopify_customer.get("id") or ""),
        outcome="Customer data erased." if customer is not None else "No data is held about this customer.",
    )


@transaction.atomic
def shop_redact(*, shop: Shop, payload: dict) -> PrivacyRequest:
    customers = list(Customer.objects.filter(shop=shop))
    for customer in customers:
        customer_erase(customer=customer)
    Integration.objects.filter(shop=shop, partner__in=(KEY, "shopify_flow")).update(
        state=Integration.State.DISCONNECTED, credentials={}
    )
    return _record(
        shop,
        PrivacyRequest.Topic.SHOP_REDACT,
        outcome=f"{len(customers)} customer(s) erased; the store connection was removed.",
    )
