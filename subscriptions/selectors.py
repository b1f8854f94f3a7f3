"""Reads shared by the console, the vendor API and the portal. Every one is scoped by shop."""

import datetime as dt

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from subscriptions.models import Customer, Shop, SkippedDate, Subscription, SubscriptionLine


def subscriptions_with_details(queryset: QuerySet[Subscription] | None = None) -> QuerySet[Subscription]:
    """Subscriptions with everything a summary shows, in a constant number of queries."""
    queryset = queryset if queryset is not None else Subscription.objects.all()
    return queryset.select_related(
        "plan__program", "customer", "payment_method", "shipping_address"
    ).prefetch_related(
        Prefetch(
            "lines", queryset=SubscriptionLine.objects.select_related("variant__product").order_by("id")
        ),
        Prefetch(
            "skips",
            queryset=SkippedDate.objects.filter(unskipped_at__isnull=True).order_by("date"),
            to_attr="active_skips",
        ),
    )


def subscription_get(*, shop: Shop, subscription_id, customer_id=None) -> Subscription:
    """One subscription of this shop (and of this customer when given), by our id or its external id; 404 otherwise."""
    queryset = subscriptions_with_details(Subscription.objects.filter(shop=shop))
    if customer_id is not None:
        queryset = queryset.filter(customer_id=customer_id)
    lookup = Q(external_id=str(subscription_id))
    if str(subscription_id).isdigit():
        lookup |= Q(pk=int(subscription_id))
    return get_object_or_404(queryset.filter(lookup).order_by("-pk")[:1])


def customer_get(*, shop: Shop, customer_id) -> Customer:
    lookup = Q(external_id=str(customer_id))
    if str(customer_id).isdigit():
        lookup |= Q(pk=int(customer_id))
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
    with_subscriptions = Prefetch(
        "subscriptions",
        queryset=subscriptions_with_details(Subscription.objects.order_by("-created_at", "-id")),
        to_attr="recent_subscriptions",
    )
    customers = Customer.objects.filter(shop=shop).prefetch_related(with_subscriptions)
    if "@" in needle:
        # Helpdesks send the ticket's email: answer from the (shop, email) unique index when it hits.
        exact = list(customers.filter(email=needle)[:1])
        if exact:
            return exact
    queryset = (
        customers.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
        .filter(
            Q(email__icontains=needle)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(full_name__icontains=text)
        )
        .annotate(
            rank=Case(
                When(email__iexact=needle, then=Value(0)),
                When(full_name__iexact=text, then=Value(1)),
                When(
                    Q(first_name__icontains=text)
                    | Q(last_name__icontains=text)
                    | Q(full_name__icontains=text),
                    then=Value(2),
                ),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "-created_at", "-id")
    )
    return list(queryset[:limit])
