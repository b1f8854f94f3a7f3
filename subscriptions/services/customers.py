"""Customers, their addresses and payment methods."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Address, Customer, PaymentMethod, Shop
from subscriptions.services.common import clean_address, log_activity

CUSTOMER_FIELDS = ("first_name", "last_name", "phone", "external_id")


def _normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise DomainError("invalid_email", f"'{email}' is not a valid email address.", field="email") from exc
    return email


@transaction.atomic
def customer_create(*, shop: Shop, email: str, actor: Actor, **fields) -> Customer:
    """A customer of one shop; the email is unique within the shop (case-insensitive)."""
    email = _normalize_email(email)
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError("unknown_field", f"Unknown customer field '{name}'.", field=name)
    if Customer.objects.filter(shop=shop, email__iexact=email).exists():
        raise DomainError("email_taken", f"A customer with the email {email} already exists.", field="email")
    try:
        with transaction.atomic():
            customer = Customer.objects.create(
                shop=shop, email=email, **{k: (v or "").strip() for k, v in fields.items()}
            )
    except IntegrityError as exc:
        raise DomainError(
            "email_taken", f"A customer with the email {email} already exists.", field="email"
        ) from exc
    log_activity(
        shop=shop,
        actor=actor,
        action="customer_created",
        customer=customer,
        description=f"Customer {email} created",
    )
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: Actor, **fields) -> Customer:
    allowed = set(CUSTOMER_FIELDS) | {"email"}
    unknown = set(fields) - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError("unknown_field", f"Unknown customer field '{name}'.", field=name)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    changes = {}
    if "email" in fields:
        email = _normalize_email(fields.pop("email"))
        if email != customer.email:
            if (
                Customer.objects.filter(shop_id=customer.shop_id, email__iexact=email)
                .exclude(pk=customer.pk)
                .exists()
            ):
                raise DomainError(
                    "email_taken", f"A customer with the email {email} already exists.", field="email"
                )
            changes["email"] = (customer.email, email)
            customer.email = email
    for name, value in fields.items():
        value = (value or "").strip()
        if getattr(customer, name) != value:
            changes[name] = (getattr(customer, name), value)
            setattr(customer, name, value)
    if changes:
        customer.save()
        log_activity(
            shop=customer.shop,
            actor=actor,
            action="customer_updated",
            customer=customer,
            description="Customer details changed: " + ", ".join(sorted(changes)),
            details={k: {"from": a, "to": b} for k, (a, b) in changes.items()},
        )
    return customer


@transaction.atomic
def customer_mark_logged_in(*, customer: Customer) -> Customer:
    if not customer.has_logged_in:
        Customer.objects.filter(pk=customer.pk).update(has_logged_in=True)
        customer.has_logged_in = True
    return customer


@transaction.atomic
def address_create(*, customer: Customer, actor: Actor, **fields) -> Address:
    clean = clean_address(fields)
    address = Address.objects.create(shop_id=customer.shop_id, customer=customer, **clean)
    log_activity(
        shop=customer.shop,
        actor=actor,
        action="address_added",
        customer=customer,
        description=f"Address added: {address}",
    )
    return address


@transaction.atomic
def payment_method_add(
    *,
    customer: Customer,
    actor: Actor,
    gateway: str,
    token: str,
    brand: str = "",
    last4: str = "",
    exp_month: int | None = None,
    exp_year: int | None = None,
) -> PaymentMethod:
    if gateway not in PaymentMethod.Gateway.values:
        raise DomainError("invalid_gateway", f"Unknown payment gateway '{gateway}'.", field="gateway")
    if not (token or "").strip():
        raise DomainError("required", "A payment token is required.", field="token")
    if last4 and (len(last4) != 4 or not last4.isdigit()):
        raise DomainError("invalid_last4", "last4 must be four digits.", field="last4")
    if exp_month is not None and not 1 <= exp_month <= 12:
        raise DomainError("invalid_expiry", "The expiry month must be between 1 and 12.", field="exp_month")
    method = PaymentMethod.objects.create(
        shop_id=customer.shop_id,
        customer=customer,
        gateway=gateway,
        token=token.strip(),
        brand=brand,
        last4=last4,
        exp_month=exp_month,
        exp_year=exp_year,
    )
    log_activity(
        shop=customer.shop,
        actor=actor,
        action="payment_method_added",
        customer=customer,
        description=f"Payment method added: {method}",
    )
    return method
