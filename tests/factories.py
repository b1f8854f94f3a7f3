"""factory-boy factories for the domain models.

Tenancy rule: a factory that builds a child puts it in its parent's shop. Each factory has `shop`
as its root; related objects are built from it (`shop=SelfAttribute("..shop")`). When a test
passes a related object but no shop (`SubscriptionFactory(customer=c)`), the shop — and, where it
matters, the customer — is taken from that object, so `SubscriptionFactory(customer=c)` lands in
`c.shop` with `c`'s address and payment method. Passing objects from two different shops raises.
"""

import datetime as dt
import uuid
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone
from factory import SelfAttribute, SubFactory
from factory.django import DjangoModelFactory

from subscriptions.models import (
    ActivityLog,
    Address,
    Customer,
    DiscountCode,
    Gift,
    IntervalUnit,
    Order,
    OrderLine,
    PaymentMethod,
    Plan,
    Product,
    Shop,
    SkippedDate,
    StaffMembership,
    Subscription,
    SubscriptionDiscount,
    SubscriptionLine,
    SubscriptionProgram,
    Variant,
)
from webhooks.models import OutboxEvent

SAME_SHOP = SelfAttribute("..shop")


def _today() -> dt.date:
    return timezone.localdate()


class ShopScopedFactory(DjangoModelFactory):
    """Base for factories of rows that belong to a shop.

    `_derive_from` maps a related field to the fields copied from it when the caller passed that
    related object but not those fields, e.g. `{"subscription": ("shop", "customer")}`.
    """

    _derive_from: dict[str, tuple[str, ...]] = {}

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        params = dict(params)
        for source, fields in cls._derive_from.items():
            obj = params.get(source)
            if not isinstance(obj, models.Model):
                continue
            for field in fields:
                if field not in params:
                    params[field] = getattr(obj, field)
        return super()._generate(strategy, params)

    @classmethod
    def _check_same_shop(cls, kwargs):
        shop = kwargs.get("shop")
        if shop is None:
            return
        for name, value in kwargs.items():
            if name != "shop" and isinstance(value, models.Model) and hasattr(value, "shop_id"):
                if value.shop_id != shop.pk:
                    raise ValueError(
                        f"{cls.__name__}: {name} belongs to shop {value.shop_id}, not to shop {shop.pk}"
                    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        cls._check_same_shop(kwargs)
        return super()._create(model_class, *args, **kwargs)


class ShopFactory(DjangoModelFactory):
    class Meta:
        model = Shop

    name = factory.Sequence(lambda n: f"Shop {n}")
    domain = factory.Sequence(lambda n: f"shop-{n}.example")
    currency = "USD"
    timezone = "America/New_York"
    billing_time = dt.time(9, 0)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("password")


class StaffMembershipFactory(ShopScopedFactory):
    """A console user working for one shop (`is_staff=True`, password "password")."""

    class Meta:
        model = StaffMembership

    shop = SubFactory(ShopFactory)
    user = SubFactory(UserFactory, is_staff=True)
    role = "owner"


class CustomerFactory(ShopScopedFactory):
    class Meta:
        model = Customer

    shop = SubFactory(ShopFactory)
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class AddressFactory(ShopScopedFactory):
    _derive_from = {"customer": ("shop",)}

    class Meta:
        model = Address

    shop = SubFactory(ShopFactory)
    customer = SubFactory(CustomerFactory, shop=SAME_SHOP)
    first_name = SelfAttribute("customer.first_name")
    last_name = SelfAttribute("customer.last_name")
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    province = "NY"
    postal_code = factory.Faker("postcode")
    country = "US"


class PaymentMethodFactory(ShopScopedFactory):
    _derive_from = {"customer": ("shop",)}

    class Meta:
        model = PaymentMethod

    shop = SubFactory(ShopFactory)
    customer = SubFactory(CustomerFactory, shop=SAME_SHOP)
    gateway = PaymentMethod.Gateway.TEST
    token = "tok_success"
    brand = "Visa"
    last4 = "4242"
    exp_month = 12
    exp_year = factory.LazyFunction(lambda: _today().year + 3)


class ProductFactory(ShopScopedFactory):
    class Meta:
        model = Product

    shop = SubFactory(ShopFactory)
    title = factory.Sequence(lambda n: f"Product {n}")


class VariantFactory(ShopScopedFactory):
    _derive_from = {"product": ("shop",)}

    class Meta:
        model = Variant

    shop = SubFactory(ShopFactory)
    product = SubFactory(ProductFactory, shop=SAME_SHOP)
    title = "Default"
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("20.00")


class SubscriptionProgramFactory(ShopScopedFactory):
    class Meta:
        model = SubscriptionProgram

    shop = SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"Program {n}")


class PlanFactory(ShopScopedFactory):
    """A monthly plan without discount."""

    _derive_from = {"program": ("shop",)}

    class Meta:
        model = Plan

    shop = SubFactory(ShopFactory)
    program = SubFactory(SubscriptionProgramFactory, shop=SAME_SHOP)
    name = "Monthly"
    interval_unit = IntervalUnit.MONTH
    interval_count = 1


class SubscriptionFactory(ShopScopedFactory):
    """An ACTIVE subscription billing in two weeks, with one line (`lines=0` for none, `lines=3` for
    three, `lines=[variant, ...]` for those variants; `lines__quantity=2` goes to each line)."""

    _derive_from = {
        "customer": ("shop",),
        "plan": ("shop",),
        "payment_method": ("shop", "customer"),
        "shipping_address": ("shop", "customer"),
    }

    class Meta:
        model = Subscription
        skip_postgeneration_save = True

    shop = SubFactory(ShopFactory)
    customer = SubFactory(CustomerFactory, shop=SAME_SHOP)
    plan = SubFactory(PlanFactory, shop=SAME_SHOP)
    status = Subscription.Status.ACTIVE
    next_billing_date = factory.LazyFunction(lambda: _today() + dt.timedelta(days=14))
    anchor_day = factory.LazyAttribute(lambda o: o.next_billing_date.day if o.next_billing_date else None)
    payment_method = SubFactory(PaymentMethodFactory, shop=SAME_SHOP, customer=SelfAttribute("..customer"))
    shipping_address = SubFactory(AddressFactory, shop=SAME_SHOP, customer=SelfAttribute("..customer"))
    currency = SelfAttribute("shop.currency")

    @factory.post_generation
    def lines(obj, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            extracted = 1
        if isinstance(extracted, int):
            for _ in range(extracted):
                SubscriptionLineFactory(subscription=obj, **kwargs)
        else:
            for variant in extracted:
                SubscriptionLineFactory(subscription=obj, variant=variant, **kwargs)


class SubscriptionLineFactory(ShopScopedFactory):
    _derive_from = {"subscription": ("shop",), "variant": ("shop",)}

    class Meta:
        model = SubscriptionLine

    shop = SubFactory(ShopFactory)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP, lines=0)
    variant = SubFactory(VariantFactory, shop=SAME_SHOP)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.subscription.plan.unit_price(o.variant.price))


class SkippedDateFactory(ShopScopedFactory):
    """Skips the subscription's next billing date."""

    _derive_from = {"subscription": ("shop",)}

    class Meta:
        model = SkippedDate

    shop = SubFactory(ShopFactory)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP)
    date = factory.LazyAttribute(lambda o: o.subscription.next_billing_date or _today())


class GiftFactory(ShopScopedFactory):
    """Gifts the subscription's next order."""

    _derive_from = {"subscription": ("shop",)}

    class Meta:
        model = Gift

    shop = SubFactory(ShopFactory)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP)
    billing_date = factory.LazyAttribute(lambda o: o.subscription.next_billing_date or _today())
    recipient_first_name = factory.Faker("first_name")
    recipient_last_name = factory.Faker("last_name")
    recipient_email = factory.Faker("email")
    message = "Enjoy!"
    line1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postal_code = factory.Faker("postcode")
    country = "US"


class OrderFactory(ShopScopedFactory):
    """A paid renewal of a subscription, billed on a past date (each one a day earlier)."""

    _derive_from = {"subscription": ("shop", "customer"), "customer": ("shop",)}

    class Meta:
        model = Order

    shop = SubFactory(ShopFactory)
    customer = SubFactory(CustomerFactory, shop=SAME_SHOP)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP, customer=SelfAttribute("..customer"))
    billing_date = factory.Sequence(lambda n: _today() - dt.timedelta(days=n + 1))
    status = Order.Status.PAID
    currency = SelfAttribute("shop.currency")
    subtotal = Decimal("20.00")
    discount_total = Decimal("0.00")
    total = Decimal("20.00")
    paid_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(ShopScopedFactory):
    _derive_from = {"order": ("shop",)}

    class Meta:
        model = OrderLine

    shop = SubFactory(ShopFactory)
    order = SubFactory(OrderFactory, shop=SAME_SHOP)
    variant = SubFactory(VariantFactory, shop=SAME_SHOP)
    title = factory.LazyAttribute(lambda o: f"{o.variant.product.title} — {o.variant.title}")
    sku = SelfAttribute("variant.sku")
    quantity = 1
    unit_price = SelfAttribute("variant.price")
    total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class DiscountCodeFactory(ShopScopedFactory):
    """10% off every payment."""

    class Meta:
        model = DiscountCode

    shop = SubFactory(ShopFactory)
    code = factory.Sequence(lambda n: f"CODE{n}")
    kind = DiscountCode.Kind.PERCENTAGE
    value = Decimal("10")
    applies_to = DiscountCode.AppliesTo.BOTH
    duration = DiscountCode.Duration.ALL


class SubscriptionDiscountFactory(ShopScopedFactory):
    _derive_from = {"subscription": ("shop",), "code": ("shop",)}

    class Meta:
        model = SubscriptionDiscount

    shop = SubFactory(ShopFactory)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP)
    code = SubFactory(DiscountCodeFactory, shop=SAME_SHOP)


class ActivityLogFactory(ShopScopedFactory):
    _derive_from = {"subscription": ("shop", "customer"), "customer": ("shop",)}

    class Meta:
        model = ActivityLog

    shop = SubFactory(ShopFactory)
    customer = SubFactory(CustomerFactory, shop=SAME_SHOP)
    subscription = SubFactory(SubscriptionFactory, shop=SAME_SHOP, customer=SelfAttribute("..customer"))
    actor_type = ActivityLog.ActorType.SYSTEM
    action = "created"
    description = "Subscription created"


class OutboxEventFactory(DjangoModelFactory):
    """An unrelayed event. The outbox refers to its shop by id only; pass `shop=` or `shop_id=`."""

    class Meta:
        model = OutboxEvent
        exclude = ("shop",)

    shop = SubFactory(ShopFactory)
    shop_id = SelfAttribute("shop.id")

    @classmethod
    def _generate(cls, strategy, params):
        if "shop_id" in params and "shop" not in params:
            params = {**params, "shop": None}  # no stray shop when the caller names one by id
        return super()._generate(strategy, params)

    type = "subscription.created"
    version = 1
    actor = "system"
    occurred_at = factory.LazyFunction(timezone.now)
    payload = factory.LazyAttribute(
        lambda o: {
            "id": str(uuid.uuid4()),
            "type": o.type,
            "version": o.version,
            "occurred_at": o.occurred_at.isoformat(),
            "shop": o.shop_id,
            "actor": o.actor,
            "data": {},
        }
    )
