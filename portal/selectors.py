"""Portal reads: always scoped to the signed-in customer of one shop, in a constant number of queries."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from subscriptions.models import (
    Customer,
    DiscountCode,
    Order,
    OrderLine,
    Plan,
    Subscription,
    SubscriptionDiscount,
    Variant,
)
from subscriptions.selectors import effective_next_order_date, subscriptions_with_details


def portal_customer_get(*, customer_id, shop_id) -> Customer | None:
    return Customer.objects.select_related("shop").filter(pk=customer_id, shop_id=shop_id).first()


def _with_total(subscription: Subscription) -> Subscription:
    subscription.portal_total = sum((line.total for line in subscription.lines.all()), Decimal("0.00"))
    subscription.portal_next_date = effective_next_order_date(subscription)
    return subscription


def portal_subscriptions(*, customer: Customer) -> list[Subscription]:
    """The customer's subscriptions, live ones first, newest first."""
    # The lists show no address or card, and the customer is the one given: join only the plan.
    queryset = subscriptions_with_details(
        Subscription.objects.filter(shop_id=customer.shop_id, customer=customer), related=()
    ).order_by("status", "-created_at", "-id")
    return [_with_total(_of(sub, customer)) for sub in queryset]


def _of(subscription: Subscription, customer: Customer) -> Subscription:
    subscription.customer = customer  # the row the query was scoped to, with its shop loaded
    return subscription


def portal_subscription_get(*, customer: Customer, subscription_id: int) -> Subscription:
    """One subscription of this customer; another customer's (or shop's) id is a 404."""
    queryset = subscriptions_with_details(
        Subscription.objects.filter(shop_id=customer.shop_id, customer=customer),
        related=("payment_method", "shipping_address"),
    ).prefetch_related(
        Prefetch("plan__program__plans", queryset=Plan.objects.filter(active=True).order_by("id")),
        Prefetch(
            "discounts",
            queryset=SubscriptionDiscount.objects.filter(removed_at__isnull=True).select_related("code"),
            to_attr="active_discounts",
        ),
    )
    subscription = queryset.filter(pk=subscription_id).first()
    if subscription is None:
        raise Http404("No such subscription")
    return _with_total(_of(subscription, customer))


def purchasable_variants(*, shop_id: int) -> list[tuple[int, str, str, Decimal]]:
    """(id, product title, variant title, price) of every variant a customer can swap to or add: plain
    rows, as the page only lists them (a model instance per variant of the shop costs far more)."""
    queryset = (
        Variant.objects.filter(shop_id=shop_id, available=True, archived=False, product__active=True)
        .filter(Q(inventory__isnull=True) | Q(inventory__gt=0))
        .order_by("product__title", "title", "id")
    )
    return list(queryset.values_list("id", "product__title", "title", "price"))


def portal_orders(
    *, customer: Customer, subscription: Subscription | None = None, with_lines: bool = True
) -> QuerySet[Order]:
    """The customer's orders, newest first; `with_lines=False` for a list that shows no lines."""
    queryset = Order.objects.filter(shop_id=customer.shop_id, customer=customer)
    if subscription is not None:
        queryset = queryset.filter(subscription=subscription)
    if with_lines:
        queryset = queryset.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    return queryset.order_by("-created_at", "-id")


def retention_discount_code(*, shop_id: int) -> DiscountCode | None:
    """The code offered to a customer leaving because it is too expensive: the PORTAL_RETENTION_
    DISCOUNT_CODE setting when it names a code of the shop, else the shop's first active
    subscription-only code that is valid now and not used up."""
    now = timezone.now()
    usable = (
        DiscountCode.objects.filter(shop_id=shop_id, active=True)
        .exclude(applies_to=DiscountCode.AppliesTo.ONE_TIME)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    )
    named = settings.PORTAL_RETENTION_DISCOUNT_CODE.strip().upper()
    if named:
        code = usable.filter(code=named).first()
        if code is not None:
            return code
    for code in usable.filter(applies_to=DiscountCode.AppliesTo.SUBSCRIPTION).order_by("created_at", "id"):
        if code.usage_limit is None or code.times_used < code.usage_limit:
            return code
    return None
