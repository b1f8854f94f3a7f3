"""Reads of the subscribe page and the cart: always within one shop (another shop's id is a 404)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from portal.checkout.models import CheckoutSettings
from subscriptions.models import Plan, Product, Shop, Variant, add_interval

CART_SESSION_KEY = "subscribe_cart"
MAX_CART_LINES = 20


@dataclass
class CartLine:
    """One line of the cart: a variant, on a plan (None: a one-time purchase), a quantity."""

    variant: Variant
    plan: Plan | None
    quantity: int
    index: int = -1  # position in the session cart (what "remove" names)

    @property
    def unit_price(self) -> Decimal:
        return self.plan.unit_price(self.variant.price) if self.plan else self.variant.price

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def savings(self) -> Decimal:
        return (self.variant.price - self.unit_price) * self.quantity


def _purchasable(queryset):
    return queryset.filter(available=True, archived=False).filter(
        Q(inventory__isnull=True) | Q(inventory__gt=0)
    )


def plans_for_product(*, shop: Shop, product: Product) -> list[Plan]:
    """The active plans of the shop's active programs that sell this product."""
    plans = (
        Plan.objects.filter(shop=shop, active=True, program__active=True, program__products=product)
        .select_related("program")
        .order_by("program__name", "id")
    )
    return list(plans)


def one_time_allowed(*, shop: Shop) -> bool:
    return CheckoutSettings.objects.filter(shop=shop, allow_one_time_purchase=True).exists()


def plan_label(plan: Plan, base: Decimal | None = None) -> str:
    label = f"{plan.program.name}: {plan.name} ({plan.frequency_label})"
    if plan.discount_type == Plan.DiscountType.PERCENTAGE and plan.discount_value:
        label += " — " + _("save %(percent)s%%") % {
            "percent": f"{plan.discount_value:f}".rstrip("0").rstrip(".")
        }
    elif plan.discount_type == Plan.DiscountType.FIXED and plan.discount_value:
        label += " — " + _("save %(amount)s each") % {"amount": plan.discount_value}
    return label


def subscribe_product_get(*, shop: Shop, product_id: int) -> Product:
    """An active product of this shop that at least one active plan sells (or, where the shop
    allows one-time purchases, any active product), with `subscribe_variants` (purchasable, each
    with a `label`) and `subscribe_plans` (each with a `label`). Anything else is a 404."""
    product = Product.objects.filter(shop=shop, pk=product_id, active=True).first()
    if product is None:
        raise Http404("No such product")
    plans = plans_for_product(shop=shop, product=product)
    if not plans and not one_time_allowed(shop=shop):
        raise Http404("This product is not sold by subscription")
    variants = list(_purchasable(Variant.objects.filter(shop=shop, product=product)).order_by("price", "id"))
    for variant in variants:
        variant.label = f"{variant.title} — {variant.price} {shop.currency}"
    for plan in plans:
        plan.label = plan_label(plan)
    product.subscribe_variants = variants
    product.subscribe_plans = plans
    return product


def first_subscribable_product(*, shop: Shop) -> Product | None:
    """The shop's first product sold by an active plan (the demo link `make run` prints)."""
    return (
        Product.objects.filter(shop=shop, active=True, programs__active=True, programs__plans__active=True)
        .filter(variants__available=True, variants__archived=False)
        .order_by("id")
        .first()
    )


def cart_raw(session, shop: Shop) -> list[dict]:
    return list(session.get(CART_SESSION_KEY, {}).get(str(shop.pk), []))


def cart_lines(session, shop: Shop) -> list[CartLine]:
    """The cart's lines still on sale in this shop: a line whose variant, plan or program went away
    (or was never this shop's) is left out."""
    raw = cart_raw(session, shop)
    variants = {
        v.pk: v
        for v in _purchasable(
            Variant.objects.filter(shop=shop, product__active=True, pk__in=[r["variant"] for r in raw])
        ).select_related("product")
    }
    plans = {
        p.pk: p
        for p in Plan.objects.filter(
            shop=shop, active=True, program__active=True, pk__in=[r["plan"] for r in raw if r["plan"]]
        ).select_related("program")
    }
    sold_by = set(Plan.objects.filter(pk__in=plans).values_list("pk", "program__products").distinct())
    one_time = one_time_allowed(shop=shop)
    lines = []
    for index, row in enumerate(raw):
        variant = variants.get(row["variant"])
        if variant is None:
            continue
        if row["plan"] is None:
            if one_time:
                lines.append(CartLine(variant, None, row["quantity"], index))
            continue
        plan = plans.get(row["plan"])
        if plan is not None and (plan.pk, variant.product_id) in sold_by:
            lines.append(CartLine(variant, plan, row["quantity"], index))
    return lines


@dataclass
class PlanGroup:
    """The cart lines that become one subscription (one plan), or the one-time lines."""

    plan: Plan | None
    lines: list[CartLine]
    next_order_date: dt.date | None

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))


def cart_groups(lines: list[CartLine], *, today: dt.date) -> list[PlanGroup]:
    """Subscription lines grouped by plan, in cart order; one-time lines last."""
    groups: dict[int | None, PlanGroup] = {}
    for line in lines:
        key = line.plan.pk if line.plan else None
        if key not in groups:
            date = (
                add_interval(today, line.plan.interval_unit, line.plan.interval_count) if line.plan else None
            )
            groups[key] = PlanGroup(line.plan, [], date)
        groups[key].lines.append(line)
    ordered = [g for k, g in groups.items() if k is not None]
    if None in groups:
        ordered.append(groups[None])
    return ordered
