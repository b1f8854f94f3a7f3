"""Our customers and Shopify's: matched by Shopify customer id first, then by email (the email is
unique per shop here), so one person is never two customers on either side."""

from django.db import transaction

from shopify.client import ShopifyClient, gid, legacy_id
from shopify.connection import ACTOR
from subscriptions.errors import DomainError
from subscriptions.models import Customer, Shop
from subscriptions.services.customers import customer_create, customer_update

CUSTOMER_FIELDS = "id legacyResourceId email firstName lastName phone"
CUSTOMER_BY_ID = f"query Customer($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}"
CUSTOMER_BY_EMAIL = (
    f"query CustomerByEmail($query: String!) {{ customers(first: 1, query: $query) "
    f"{{ nodes {{ {CUSTOMER_FIELDS} }} }} }}"
)


def email_query(email: str) -> str:
    return f"email:'{email.replace(chr(39), '')}'"


def find_by_email(client: ShopifyClient, email: str) -> dict | None:
    data = client.execute(CUSTOMER_BY_EMAIL, {"query": email_query(email)})
    nodes = (data.get("customers") or {}).get("nodes") or []
    # Shopify's search is fuzzy: only an exact (case-insensitive) email is the same person.
    return next((n for n in nodes if (n.get("email") or "").lower() == email.lower()), None)


def shopify_customer_for(*, customer: Customer, client: ShopifyClient) -> dict:
    """`OrderCreateCustomerInput` for an order of this customer: the known Shopify customer, else the
    one Shopify has with this email (remembered here), else a new one upserted by email."""
    number = legacy_id(customer.external_id)
    if number.isdigit():
        return {"toAssociate": {"id": gid("Customer", number)}}
    found = find_by_email(client, customer.email)
    if found is not None:
        shopify_id = str(found.get("legacyResourceId") or legacy_id(found.get("id")))
        taken = Customer.objects.filter(shop_id=customer.shop_id, external_id=shopify_id).exclude(
            pk=customer.pk
        )
        if not taken.exists():
            Customer.objects.filter(pk=customer.pk).update(external_id=shopify_id)
        return {"toAssociate": {"id": gid("Customer", shopify_id)}}
    upsert = {"email": customer.email}
    if customer.first_name:
        upsert["firstName"] = customer.first_name
    if customer.last_name:
        upsert["lastName"] = customer.last_name
    return {"toUpsert": upsert}


@transaction.atomic
def customer_import(*, shop: Shop, shopify_customer_id: str, client: ShopifyClient) -> Customer:
    """Bring one Shopify customer in: the customer with that Shopify id, else the one with that
    email (now linked), else a new one."""
    data = client.execute(CUSTOMER_BY_ID, {"id": gid("Customer", legacy_id(shopify_customer_id))})
    found = data.get("customer")
    if not found:
        raise DomainError(
            "not_found", f"Shopify has no customer {shopify_customer_id}.", field="shopifyCustomerId"
        )
    shopify_id = str(found.get("legacyResourceId") or legacy_id(found.get("id")))
    email = (found.get("email") or "").strip().lower()
    names = {
        "first_name": found.get("firstName") or "",
        "last_name": found.get("lastName") or "",
    }
    customer = Customer.objects.filter(shop=shop, external_id=shopify_id).first()
    if customer is None and email:
        customer = Customer.objects.filter(shop=shop, email__iexact=email).first()
    if customer is None:
        if not email:
            raise DomainError(
                "no_email", "That Shopify customer has no email address to subscribe with.", field="email"
            )
        return customer_create(
            shop=shop,
            email=email,
            actor=ACTOR,
            external_id=shopify_id,
            phone=found.get("phone") or "",
            **names,
        )
    changes = {"external_id": shopify_id}
    changes.update({k: v for k, v in names.items() if v and not getattr(customer, k)})
    return customer_update(customer=customer, actor=ACTOR, **changes)


def import_for_vendor_api(shop: Shop, shopify_customer_id: str) -> Customer:
    """`POST /vendor/customer-relationship/import`: Shopify trouble is a clear error, never a 500."""
    from rest_framework.exceptions import APIException

    from shopify.client import ShopifyError
    from shopify.connection import shop_client

    if not legacy_id(shopify_customer_id).isdigit():
        raise DomainError(
            "not_found", f"'{shopify_customer_id}' is not a Shopify customer id.", field="shopifyCustomerId"
        )
    try:
        return customer_import(shop=shop, shopify_customer_id=shopify_customer_id, client=shop_client(shop))
    except ShopifyError as exc:
        error = APIException(f"Shopify: {exc.message}")
        error.status_code = 503 if exc.retryable else 502
        raise error from exc
