"""/vendor/v1/orders: read-only; orders are written by billing."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin

from subscriptions.api.resources.base import Money, ResourceView, ordering_parameter, problems
from subscriptions.api.resources.filters import OrderFilter
from subscriptions.models import Order

TAG = ["Orders"]
ORDERING = ("created_at",)


class OrderLineOut(serializers.Serializer):
    id = serializers.IntegerField()
    variant_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = Money()
    total = Money()


class OrderOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(
        help_text="The Shopify order id, once the order was created in Shopify."
    )
    shopify_order_name = serializers.CharField(help_text="The order's name in Shopify, for example #1001.")
    customer_id = serializers.IntegerField()
    subscription_id = serializers.IntegerField(allow_null=True)
    billing_date = serializers.DateField(allow_null=True)
    status = serializers.ChoiceField(choices=Order.Status.choices)
    currency = serializers.CharField()
    subtotal = Money()
    discount_total = Money()
    total = Money()
    shipping_address = serializers.DictField(help_text="The address the order shipped to, as billed.")
    is_gift = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = OrderLineOut(many=True, source="lines.all")


class OrderViewBase(ResourceView):
    resource = "orders"
    serializer_class = OrderOut

    def get_queryset(self):
        return Order.objects.filter(shop=self.shop).prefetch_related("lines")


@extend_schema(tags=TAG)
class OrderListView(ListModelMixin, OrderViewBase):
    filterset_class = OrderFilter
    ordering_fields = ORDERING
    default_ordering = "-created_at"

    @extend_schema(
        summary="List orders",
        parameters=[ordering_parameter(ORDERING, "-created_at")],
        responses={200: OrderOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)


@extend_schema(tags=TAG)
class OrderDetailView(RetrieveModelMixin, OrderViewBase):
    @extend_schema(summary="Get an order", responses={200: OrderOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)
