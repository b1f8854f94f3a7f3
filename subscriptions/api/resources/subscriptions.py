"""/vendor/v1/subscriptions: list, create, read, and one POST endpoint per lifecycle action."""

from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.response import Response

from subscriptions import services
from subscriptions.api.resources.base import Input, InShop, Money, ResourceView, ordering_parameter, problems
from subscriptions.api.resources.customers import AddressIn, AddressOut, PaymentMethodOut
from subscriptions.api.resources.filters import SubscriptionFilter
from subscriptions.models import (
    Address,
    Customer,
    PaymentMethod,
    Plan,
    Subscription,
    SubscriptionDiscount,
    Variant,
)
from subscriptions.selectors import effective_next_order_date, subscriptions_with_details

TAG = ["Subscriptions"]
ORDERING = ("created_at", "updated_at")


# ---------------------------------------------------------------- output


class SubscriptionCustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class PlanOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    program_id = serializers.IntegerField()
    program_name = serializers.CharField(source="program.name")
    interval_unit = serializers.CharField()
    interval_count = serializers.IntegerField()


class LineOut(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField(source="variant.product_id")
    product_title = serializers.CharField(source="variant.product.title")
    variant_id = serializers.IntegerField()
    variant_title = serializers.CharField(source="variant.title")
    sku = serializers.CharField(source="variant.sku")
    quantity = serializers.IntegerField()
    unit_price = Money()
    total = Money()
    currency = serializers.CharField(source="subscription.currency")


class AppliedDiscountOut(serializers.Serializer):
    code = serializers.CharField(source="code.code")
    kind = serializers.CharField(source="code.kind")
    value = Money(source="code.value")
    payments_remaining = serializers.IntegerField(allow_null=True)
    applied_at = serializers.DateTimeField()


class SubscriptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Subscription.Status.choices)
    customer = SubscriptionCustomerOut()
    plan = PlanOut()
    next_billing_date = serializers.DateField(allow_null=True, help_text="The next scheduled billing date.")
    next_order_date = serializers.SerializerMethodField(
        help_text="The next date an order is really placed (skipped dates stepped over)."
    )
    skipped_dates = serializers.SerializerMethodField()
    auto_resume_date = serializers.DateField(allow_null=True)
    paused_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    cancel_reason = serializers.CharField()
    order_count = serializers.IntegerField()
    currency = serializers.CharField()
    total = serializers.SerializerMethodField(help_text="Sum of the lines, before discount codes.")
    payment_method = PaymentMethodOut(allow_null=True)
    shipping_address = AddressOut(allow_null=True)
    lines = LineOut(many=True, source="lines.all")
    discounts = AppliedDiscountOut(many=True, source="active_discounts")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_next_order_date(self, obj) -> str | None:
        date = effective_next_order_date(obj) if obj.status == Subscription.Status.ACTIVE else None
        return date.isoformat() if date else None

    def get_skipped_dates(self, obj) -> list[str]:
        return [skip.date.isoformat() for skip in obj.active_skips]

    def get_total(self, obj) -> str:
        return str(sum((line.total for line in obj.lines.all()), start=Decimal("0.00")))


def subscriptions_for(shop):
    """The shop's subscriptions with everything `SubscriptionOut` shows, in constant queries."""
    return subscriptions_with_details(Subscription.objects.filter(shop=shop)).prefetch_related(
        Prefetch(
            "discounts",
            queryset=SubscriptionDiscount.objects.filter(removed_at__isnull=True)
            .select_related("code")
            .order_by("applied_at", "id"),
            to_attr="active_discounts",
        )
    )


# ---------------------------------------------------------------- input


class LineIn(Input):
    variant = InShop(Variant, "product variant", queryset=Variant.objects.select_related("product"))
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)


class SubscriptionCreateIn(Input):
    customer = InShop(Customer, "customer", queryset=Customer.objects.select_related("shop"))
    plan = InShop(Plan, "plan", queryset=Plan.objects.select_related("program"))
    lines = LineIn(many=True, allow_empty=False, max_length=100)
    payment_method = InShop(PaymentMethod, "payment method", required=False)
    shipping_address = InShop(
        Address, "address", required=False, help_text="One of the customer's addresses."
    )
    next_billing_date = serializers.DateField(required=False)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class SkipIn(Input):
    date = serializers.DateField(required=False, help_text="A scheduled order date; default the next order.")


class PauseIn(Input):
    resume_on = serializers.DateField(
        required=False, allow_null=True, help_text="Resume automatically on this date."
    )


class ActivateIn(Input):
    next_billing_date = serializers.DateField(required=False, allow_null=True)


class CancelIn(Input):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DateIn(Input):
    date = serializers.DateField()


class EmptyIn(Input):
    pass


class GiftIn(Input):
    recipient_first_name = serializers.CharField(max_length=100)
    recipient_last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    recipient_email = serializers.EmailField(required=False, allow_blank=True)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(min_length=2, max_length=2)


class SwapVariantIn(Input):
    line = serializers.IntegerField(min_value=1, help_text="The subscription line's id.")
    variant = InShop(Variant, "product variant", queryset=Variant.objects.select_related("product"))


class ChangeQuantityIn(Input):
    line = serializers.IntegerField(min_value=1, help_text="The subscription line's id.")
    quantity = serializers.IntegerField(min_value=1, max_value=1000)


class ChangePlanIn(Input):
    plan = InShop(Plan, "plan", queryset=Plan.objects.select_related("program"))


class AddLineIn(LineIn):
    pass


class RemoveLineIn(Input):
    line = serializers.IntegerField(min_value=1, help_text="The subscription line's id.")


class PaymentMethodRefIn(Input):
    payment_method = InShop(PaymentMethod, "payment method")


class DiscountCodeRefIn(Input):
    code = serializers.CharField(max_length=64)


# ---------------------------------------------------------------- views


@extend_schema(tags=TAG)
class SubscriptionListView(ListModelMixin, ResourceView):
    resource = "subscriptions"
    serializer_class = SubscriptionOut
    filterset_class = SubscriptionFilter
    ordering_fields = ORDERING
    default_ordering = "-created_at"

    def get_queryset(self):
        return subscriptions_for(self.shop)

    @extend_schema(
        summary="List subscriptions",
        parameters=[ordering_parameter(ORDERING, "-created_at")],
        responses={200: SubscriptionOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Create a subscription",
        request=SubscriptionCreateIn,
        responses={201: SubscriptionOut, **problems(400, 404, 409)},
    )
    def post(self, request):
        data = self.parse(SubscriptionCreateIn)
        subscription = services.subscription_create(
            customer=data["customer"],
            plan=data["plan"],
            lines=[(line["variant"], line["quantity"]) for line in data["lines"]],
            actor=self.actor,
            payment_method=data.get("payment_method"),
            shipping_address=data.get("shipping_address"),
            next_billing_date=data.get("next_billing_date"),
            external_id=data.get("external_id", ""),
        )
        return Response(self.render_subscription(subscription.pk), status=status.HTTP_201_CREATED)

    def render_subscription(self, pk):
        return self.render(SubscriptionOut, self.get_queryset().get(pk=pk))


@extend_schema(tags=TAG)
class SubscriptionDetailView(RetrieveModelMixin, ResourceView):
    resource = "subscriptions"
    serializer_class = SubscriptionOut

    def get_queryset(self):
        return subscriptions_for(self.shop)

    @extend_schema(summary="Get a subscription", responses={200: SubscriptionOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)


class SubscriptionActionView(ResourceView):
    """POST /vendor/v1/subscriptions/{id}/actions/<action>: one lifecycle service, then the
    subscription as it now is. A refused action answers 409 with the service's code."""

    resource = "subscriptions"
    serializer_class = SubscriptionOut
    input_serializer: type[Input] = EmptyIn

    def get_queryset(self):
        return Subscription.objects.filter(shop=self.shop).select_related("shop", "customer", "plan")

    # `perform(subscription, data)` is what each action subclass supplies.

    def post(self, request, pk):
        subscription = self.get_object()
        data = self.parse(self.input_serializer, request.data)
        self.perform(subscription, data)
        return Response(self.render(SubscriptionOut, subscriptions_for(self.shop).get(pk=subscription.pk)))


def _action(name: str, summary: str, input_serializer, perform, description: str = ""):
    view = type(
        "Subscription" + name.title().replace("-", "") + "View",
        (SubscriptionActionView,),
        {"input_serializer": input_serializer, "perform": lambda self, sub, data: perform(self, sub, data)},
    )
    return extend_schema(
        tags=TAG,
        summary=summary,
        description=description,
        request=input_serializer,
        responses={200: SubscriptionOut, **problems(400, 404, 409)},
    )(view)


def _gift(view, sub, data):
    services.subscription_gift(subscription=sub, actor=view.actor, **data)


ACTIONS = {
    "skip": _action(
        "skip",
        "Skip an order",
        SkipIn,
        lambda v, sub, d: services.subscription_skip(subscription=sub, actor=v.actor, date=d.get("date")),
        "Skip the next order, or the order of a given scheduled date.",
    ),
    "unskip": _action(
        "unskip",
        "Undo a skip",
        SkipIn,
        lambda v, sub, d: services.subscription_unskip(subscription=sub, actor=v.actor, date=d.get("date")),
    ),
    "pause": _action(
        "pause",
        "Pause",
        PauseIn,
        lambda v, sub, d: services.subscription_pause(
            subscription=sub, actor=v.actor, resume_on=d.get("resume_on")
        ),
    ),
    "activate": _action(
        "activate",
        "Resume a paused subscription",
        ActivateIn,
        lambda v, sub, d: services.subscription_activate(
            subscription=sub, actor=v.actor, next_billing_date=d.get("next_billing_date")
        ),
    ),
    "cancel": _action(
        "cancel",
        "Cancel",
        CancelIn,
        lambda v, sub, d: services.subscription_cancel(
            subscription=sub, actor=v.actor, reason=d.get("reason", "")
        ),
    ),
    "set-next-billing-date": _action(
        "set-next-billing-date",
        "Set the next billing date",
        DateIn,
        lambda v, sub, d: services.subscription_set_next_billing_date(
            subscription=sub, actor=v.actor, date=d["date"]
        ),
    ),
    "send-now": _action(
        "send-now",
        "Send the next order now",
        EmptyIn,
        lambda v, sub, d: services.subscription_send_now(subscription=sub, actor=v.actor),
        "Bill the next order at the shop's next billing time.",
    ),
    "gift": _action("gift", "Gift the next order", GiftIn, _gift),
    "swap-variant": _action(
        "swap-variant",
        "Swap a line's product variant",
        SwapVariantIn,
        lambda v, sub, d: services.subscription_swap_variant(
            subscription=sub, actor=v.actor, line=d["line"], variant=d["variant"]
        ),
    ),
    "change-quantity": _action(
        "change-quantity",
        "Change a line's quantity",
        ChangeQuantityIn,
        lambda v, sub, d: services.subscription_change_quantity(
            subscription=sub, actor=v.actor, line=d["line"], quantity=d["quantity"]
        ),
    ),
    "change-plan": _action(
        "change-plan",
        "Change the plan (frequency)",
        ChangePlanIn,
        lambda v, sub, d: services.subscription_change_plan(subscription=sub, actor=v.actor, plan=d["plan"]),
    ),
    "add-line": _action(
        "add-line",
        "Add a product",
        AddLineIn,
        lambda v, sub, d: services.subscription_add_line(
            subscription=sub, actor=v.actor, variant=d["variant"], quantity=d["quantity"]
        ),
    ),
    "remove-line": _action(
        "remove-line",
        "Remove a product",
        RemoveLineIn,
        lambda v, sub, d: services.subscription_remove_line(subscription=sub, actor=v.actor, line=d["line"]),
    ),
    "update-shipping-address": _action(
        "update-shipping-address",
        "Ship future orders to a new address",
        AddressIn,
        lambda v, sub, d: services.subscription_update_shipping_address(subscription=sub, actor=v.actor, **d),
    ),
    "update-payment-method": _action(
        "update-payment-method",
        "Charge future orders to another payment method",
        PaymentMethodRefIn,
        lambda v, sub, d: services.subscription_update_payment_method(
            subscription=sub, actor=v.actor, payment_method=d["payment_method"]
        ),
    ),
    "apply-discount": _action(
        "apply-discount",
        "Apply a discount code",
        DiscountCodeRefIn,
        lambda v, sub, d: services.subscription_apply_discount(
            subscription=sub, actor=v.actor, code=d["code"]
        ),
    ),
    "remove-discount": _action(
        "remove-discount",
        "Remove a discount code",
        DiscountCodeRefIn,
        lambda v, sub, d: services.subscription_remove_discount(
            subscription=sub, actor=v.actor, code=d["code"]
        ),
    ),
}
