"""Reads shared by the console, the vendor API and the portal. Every one is scoped by shop."""

import datetime as dt

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404
from django.utils import timezone

from subscriptions.models import (
    ActivityLog,
    Customer,
    Order,
    OrderLine,
    Plan,
    Product,
    Shop,
    SkippedDate,
    Subscription,
    SubscriptionLine,
    SubscriptionProgram,
    Variant,
)


def subscriptions_with_details(
    queryset: QuerySet[Subscription] | None = None,
    *,
    related: tuple[str, ...] = ("customer", "payment_method", "shipping_address"),
) -> QuerySet[Subscription]:
    """Subscriptions with everything a summary shows, in a constant number of queries. `related`
    narrows the joined rows for callers that already hold the customer (the helpdesk lookup)."""
    queryset = queryset if queryset is not None else Subscription.objects.all()
    return queryset.select_related("plan__program", *related).prefetch_related(
        Prefetch(
            "lines", queryset=SubscriptionLine.objects.select_related("variant__product").order_by("id")
        ),
        Prefetch(
            "skips",
            queryset=SkippedDate.objects.filter(unskipped_at__isnull=True).order_by("date"),
            to_attr="active_skips",
        ),
    )


MAX_ID = 2**63 - 1  # the largest primary key any database here stores


def parse_id(value) -> int | None:
    """`value` as a primary key when it is one: ASCII digits ("²".isdigit() is true too) in range."""
    text = str(value)
    if text.isascii() and text.isdigit() and len(text) <= 19 and int(text) <= MAX_ID:
        return int(text)
    return None


def subscription_get(*, shop: Shop, subscription_id, customer_id=None) -> Subscription:
    """One subscription of this shop (and of this customer when given), by our id or its external id; 404 otherwise."""
    queryset = subscriptions_with_details(Subscription.objects.filter(shop=shop))
    if customer_id is not None:
        # Partners send our id or the shop's external id; anything else simply matches nothing.
        customer = Q(customer__external_id=str(customer_id))
        if parse_id(customer_id) is not None:
            customer |= Q(customer_id=parse_id(customer_id))
        queryset = queryset.filter(customer)
    lookup = Q(external_id=str(subscription_id))
    if parse_id(subscription_id) is not None:
        lookup |= Q(pk=parse_id(subscription_id))
    return get_object_or_404(queryset.filter(lookup).order_by("-pk")[:1])


def customer_get(*, shop: Shop, customer_id) -> Customer:
    lookup = Q(external_id=str(customer_id))
    if parse_id(customer_id) is not None:
        lookup |= Q(pk=parse_id(customer_id))
    return get_object_or_404(Customer.objects.filter(shop=shop).filter(lookup).order_by("-pk")[:1])


def effective_next_order_date(subscription: Subscription) -> dt.date | None:
    """The next date an order is really placed: the next billing date, stepping over skipped dates.
    Uses the prefetched `active_skips` when present."""
    date = subscription.next_billing_date
    if date is None:
        return None
    skips = getattr(subscription, "active_skips", None)
    skipped = (
        {s.date for s in skips}
        if skips is not None
        else set(subscription.skips.filter(unskipped_at__isnull=True).values_list("date", flat=True))
    )
    for _ in range(len(skipped) + 1):
        if date not in skipped:
            return date
        date = subscription.date_after(date)
    return date


def customers_by_email_or_name(*, shop: Shop, text: str, limit: int = 20) -> list[Customer]:
    """Helpdesk lookup: an exact email match first, then email and name matches, each customer with
    their subscriptions (most recent first) fully loaded."""
    text = (text or "").strip()
    if not text:
        return []
    needle = text.lower()
    if "@" in needle and " " in needle:
        # Gorgias puts `{{ticket.customer.email}}` into the URL unencoded, so the "+" of
        # "jane+subs@example.com" arrives as a space; an email never holds a space.
        text = text.replace(" ", "+")
        needle = text.lower()
    with_subscriptions = Prefetch(
        "subscriptions",
        queryset=subscriptions_with_details(Subscription.objects.order_by("-created_at", "-id"), related=()),
        to_attr="recent_subscriptions",
    )
    customers = Customer.objects.filter(shop=shop).prefetch_related(with_subscriptions)
    if "@" in needle:
        # Helpdesks send the ticket's email: answer from the (shop, email) unique index when it hits.
        exact = list(customers.filter(email=needle)[:1])
        if exact:
            return exact
    queryset = (
        customers.annotate(name_text=Concat("first_name", Value(" "), "last_name"))
        .filter(
            Q(email__icontains=needle)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(name_text__icontains=text)
        )
        .annotate(
            rank=Case(
                When(email__iexact=needle, then=Value(0)),
                When(name_text__iexact=text, then=Value(1)),
                When(
                    Q(first_name__icontains=text)
                    | Q(last_name__icontains=text)
                    | Q(name_text__icontains=text),
                    then=Value(2),
                ),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "-created_at", "-id")
    )
    return list(queryset[:limit])


def _by_id_or_external_id(queryset: QuerySet, value):
    lookup = Q(external_id=str(value))
    if parse_id(value) is not None:
        lookup |= Q(pk=parse_id(value))
    return get_object_or_404(queryset.filter(lookup).order_by("-pk")[:1])


def orders_with_details(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_list(*, shop: Shop, status: str | None = None) -> QuerySet[Order]:
    queryset = Order.objects.filter(shop=shop).order_by("-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    return orders_with_details(queryset)


def order_get(*, shop: Shop, order_id) -> Order:
    """One order of this shop by our id or its external (Shopify) id; 404 otherwise."""
    return _by_id_or_external_id(orders_with_details(Order.objects.filter(shop=shop)), order_id)


def order_history(*, order: Order) -> list[dict]:
    """What happened to one order (a "bill"), oldest first: its creation, payment, each charge
    attempt and every logged action on it."""
    entries = [
        {
            "date": order.created_at,
            "event": "created",
            "description": f"Order #{order.pk} created",
            "actor": "",
        }
    ]
    if order.paid_at:
        entries.append(
            {
                "date": order.paid_at,
                "event": "paid",
                "description": f"Paid {order.total} {order.currency}",
                "actor": "",
            }
        )
    for attempt in order.payment_attempts.order_by("number"):
        entries.append(
            {
                "date": attempt.finished_at or attempt.created_at,
                "event": f"payment_{attempt.status}",
                "description": f"Attempt {attempt.number}: {attempt.get_status_display()}"
                + (f" ({attempt.message})" if attempt.message else ""),
                "actor": "",
            }
        )
    for log in ActivityLog.objects.filter(shop_id=order.shop_id, details__order_id=order.pk).order_by(
        "created_at", "id"
    ):
        entries.append(
            {"date": log.created_at, "event": log.action, "description": log.description, "actor": log.actor}
        )
    return sorted(entries, key=lambda entry: entry["date"])


def activity_for_subscription(*, subscription: Subscription) -> QuerySet[ActivityLog]:
    return ActivityLog.objects.filter(shop_id=subscription.shop_id, subscription=subscription).order_by(
        "-created_at", "-id"
    )


def customer_list(*, shop: Shop, email: str | None = None) -> QuerySet[Customer]:
    queryset = Customer.objects.filter(shop=shop).order_by("-created_at", "-id")
    if email:
        queryset = queryset.filter(email=email.strip().lower())
    return queryset


def products_with_variants(*, shop: Shop) -> QuerySet[Product]:
    return (
        Product.objects.filter(shop=shop)
        .prefetch_related(Prefetch("variants", queryset=Variant.objects.order_by("title", "id")))
        .order_by("title", "id")
    )


def product_get(*, shop: Shop, product_id) -> Product:
    """One product of this shop by our id or its external (Shopify) id; 404 otherwise."""
    return _by_id_or_external_id(products_with_variants(shop=shop), product_id)


def variant_get(
    *, shop: Shop, variant_id=None, external_id: str | None = None, sku: str | None = None
) -> Variant:
    queryset = Variant.objects.filter(shop=shop)
    if variant_id is not None:
        return get_object_or_404(queryset, pk=variant_id)
    if external_id:
        return get_object_or_404(queryset.filter(external_id=external_id).order_by("-pk")[:1])
    return get_object_or_404(queryset, sku=sku)


def programs_with_plans_and_products(*, shop: Shop) -> QuerySet[SubscriptionProgram]:
    return (
        SubscriptionProgram.objects.filter(shop=shop)
        .prefetch_related(
            Prefetch("plans", queryset=Plan.objects.order_by("interval_unit", "interval_count", "id")),
            Prefetch("products", queryset=products_with_variants(shop=shop)),
        )
        .order_by("name", "id")
    )


# ---------------------------------------------------------------- dunning

DUNNING_WINDOW = dt.timedelta(days=30)
# Still being retried / retries over without payment (dunning ran out, the subscription was
# cancelled meanwhile, or someone gave up on the bill).
PAYMENT_FAILING = Q(status=Order.Status.FAILED, next_retry_date__isnull=False)
PAYMENT_GIVEN_UP = Q(status=Order.Status.FAILED, next_retry_date__isnull=True) | (
    Q(status=Order.Status.CANCELLED, attempt_count__gte=1) & ~Q(failure_reason="")
)
# Paid by a retry, not by the first attempt.
PAYMENT_RECOVERED = Q(status=Order.Status.PAID, attempt_count__gt=1)


def dunning_summary(*, orders: QuerySet[Order]) -> dict:
    """Failed payments of these (already shop-scoped) orders in one aggregate query: how many are
    being retried now, and over the last 30 days how many were recovered by a retry against how
    many were given up (dated by their last payment attempt). `recovery_rate` is a percentage, or
    None when nothing was recovered or given up."""
    since = timezone.now() - DUNNING_WINDOW
    counts = orders.order_by().aggregate(
        failing=Count("pk", filter=PAYMENT_FAILING, distinct=True),
        recovered=Count("pk", filter=PAYMENT_RECOVERED & Q(paid_at__gte=since), distinct=True),
        given_up=Count(
            "pk", filter=PAYMENT_GIVEN_UP & Q(payment_attempts__finished_at__gte=since), distinct=True
        ),
    )
    ended = counts["recovered"] + counts["given_up"]
    counts["recovery_rate"] = round(100 * counts["recovered"] / ended, 1) if ended else None
    return counts
