"""Smartrr wire shapes of orders, bills, events, payment methods, purchasables and programs."""

from rest_framework import serializers

from subscriptions.api.common import StrictSerializer
from subscriptions.models import Order

# Smartrr calls a charge a "bill"; here a bill is an order's payment.
BILL_STATUS = {
    Order.Status.PENDING: "PENDING",
    Order.Status.PAID: "SUCCESS",
    Order.Status.FAILED: "FAILED",
    Order.Status.CANCELLED: "CANCELLED",
}


class OrderLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    variantId = serializers.IntegerField(source="variant_id", allow_null=True)
    title = serializers.CharField()
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(source="unit_price", max_digits=12, decimal_places=2)
    totalAmount = serializers.DecimalField(source="total", max_digits=12, decimal_places=2)


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shopifyId = serializers.CharField(source="external_id")
    shopifyOrderName = serializers.CharField(source="shopify_order_name")
    custRelId = serializers.IntegerField(source="customer_id")
    purchaseStateId = serializers.IntegerField(source="subscription_id", allow_null=True)
    orderStatus = serializers.SerializerMethodField()
    billingDate = serializers.DateField(source="billing_date", allow_null=True)
    isGift = serializers.BooleanField(source="is_gift")
    currency = serializers.CharField()
    subtotalAmount = serializers.DecimalField(source="subtotal", max_digits=12, decimal_places=2)
    discountAmount = serializers.DecimalField(source="discount_total", max_digits=12, decimal_places=2)
    totalAmount = serializers.DecimalField(source="total", max_digits=12, decimal_places=2)
    shippingAddress = serializers.JSONField(source="shipping_address")
    createdDate = serializers.DateTimeField(source="created_at")
    paidDate = serializers.DateTimeField(source="paid_at", allow_null=True)
    items = OrderLineSerializer(source="lines.all", many=True)

    def get_orderStatus(self, obj) -> str:  # noqa: N802 - Smartrr's field name
        """PENDING | PAID | FAILED | CANCELLED."""
        return obj.status.upper()


class BillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    orderId = serializers.IntegerField(source="id")
    shopifyOrderId = serializers.CharField(source="external_id")
    custRelId = serializers.IntegerField(source="customer_id")
    purchaseStateId = serializers.IntegerField(source="subscription_id", allow_null=True)
    status = serializers.SerializerMethodField()
    billingDate = serializers.DateField(source="billing_date", allow_null=True)
    amount = serializers.DecimalField(source="total", max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    paymentDate = serializers.DateTimeField(source="paid_at", allow_null=True)
    createdDate = serializers.DateTimeField(source="created_at")

    def get_status(self, obj) -> str:
        """PENDING | SUCCESS | FAILED | CANCELLED."""
        return BILL_STATUS.get(obj.status, obj.status.upper())


class BillHistoryEntrySerializer(serializers.Serializer):
    date = serializers.DateTimeField()
    event = serializers.CharField()
    description = serializers.CharField()
    actor = serializers.CharField()


class BillHistoryResponse(serializers.Serializer):
    data = BillHistoryEntrySerializer(many=True)


class EventSerializer(serializers.Serializer):
    """One activity-log row of a purchase state."""

    id = serializers.IntegerField()
    eventType = serializers.CharField(source="action")
    description = serializers.CharField()
    actor = serializers.CharField()
    actorType = serializers.CharField(source="actor_type")
    purchaseStateId = serializers.IntegerField(source="subscription_id", allow_null=True)
    custRelId = serializers.IntegerField(source="customer_id", allow_null=True)
    details = serializers.JSONField()
    createdDate = serializers.DateTimeField(source="created_at")


class PaymentMethodSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    custRelId = serializers.IntegerField(source="customer_id")
    gateway = serializers.CharField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    expMonth = serializers.IntegerField(source="exp_month", allow_null=True)
    expYear = serializers.IntegerField(source="exp_year", allow_null=True)
    description = serializers.CharField(source="__str__")
    createdDate = serializers.DateTimeField(source="created_at")


class PaymentMethodsResponse(serializers.Serializer):
    data = PaymentMethodSerializer(many=True)


class VariantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shopifyId = serializers.CharField(source="external_id")
    title = serializers.CharField()
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    isAvailable = serializers.BooleanField(source="available")
    isArchived = serializers.BooleanField(source="archived")
    inventory = serializers.IntegerField(allow_null=True)
    isPurchasable = serializers.BooleanField(source="purchasable")


class PurchasableSerializer(serializers.Serializer):
    """A product with its variants."""

    id = serializers.IntegerField()
    shopifyId = serializers.CharField(source="external_id")
    title = serializers.CharField()
    description = serializers.CharField()
    isActive = serializers.BooleanField(source="active")
    createdDate = serializers.DateTimeField(source="created_at")
    vnts = VariantSerializer(source="variants.all", many=True)


class SellingPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(source="frequency_label")
    frequencyUnit = serializers.CharField(source="interval_unit")
    frequencyInterval = serializers.IntegerField(source="interval_count")
    discountType = serializers.CharField(source="discount_type")
    discountValue = serializers.DecimalField(source="discount_value", max_digits=10, decimal_places=2)
    minCycles = serializers.IntegerField(source="min_cycles", allow_null=True)
    maxCycles = serializers.IntegerField(source="max_cycles", allow_null=True)
    isActive = serializers.BooleanField(source="active")


class PurchasableCollectionSerializer(serializers.Serializer):
    """A subscription program and the products sold on it."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    isActive = serializers.BooleanField(source="active")
    purchasables = PurchasableSerializer(source="products.all", many=True)


class SellingPlanGroupSerializer(serializers.Serializer):
    """A subscription program and its selling plans."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    isActive = serializers.BooleanField(source="active")
    sellingPlans = SellingPlanSerializer(source="plans.all", many=True)
    productIds = serializers.SerializerMethodField()

    def get_productIds(self, obj) -> list[int]:  # noqa: N802
        return [product.pk for product in obj.products.all()]


class SellingPlanConfigSerializer(serializers.Serializer):
    """A program's configuration: its plans' ids and the products it covers."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    isActive = serializers.BooleanField(source="active")
    sellingPlanIds = serializers.SerializerMethodField()
    productIds = serializers.SerializerMethodField()

    def get_sellingPlanIds(self, obj) -> list[int]:  # noqa: N802
        return [plan.pk for plan in obj.plans.all()]

    def get_productIds(self, obj) -> list[int]:  # noqa: N802
        return [product.pk for product in obj.products.all()]


class PurchasableCollectionResponse(serializers.Serializer):
    data = PurchasableCollectionSerializer(many=True)


class SellingPlanGroupResponse(serializers.Serializer):
    data = SellingPlanGroupSerializer(many=True)


class SellingPlanConfigResponse(serializers.Serializer):
    data = SellingPlanConfigSerializer(many=True)


class ProblemErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ProblemErrorSerializer(many=True)


# ---------------------------------------------------------------- inputs


class PurchasableUpdateInput(StrictSerializer):
    """Which variant (`variantId`, `shopifyVariantId` or `sku`) and what changes."""

    variantId = serializers.IntegerField(min_value=1, required=False)
    shopifyVariantId = serializers.CharField(max_length=64, required=False)
    sku = serializers.CharField(max_length=64, required=False)
    title = serializers.CharField(max_length=255, required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    isAvailable = serializers.BooleanField(required=False)
    isArchived = serializers.BooleanField(required=False)
    inventory = serializers.IntegerField(required=False, allow_null=True)

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("variantId", "shopifyVariantId", "sku")):
            raise serializers.ValidationError({"variantId": ["Give variantId, shopifyVariantId or sku."]})
        if not set(attrs) & {"title", "price", "isAvailable", "isArchived", "inventory"}:
            raise serializers.ValidationError(
                {"price": ["Give at least one change: title, price, isAvailable, isArchived or inventory."]}
            )
        return attrs


class CustomerImportSerializer(StrictSerializer):
    shopifyCustomerId = serializers.CharField(  # noqa: N815 - Smartrr's field name
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="The Shopify customer id (number or gid); required when the shop has a store connected.",
    )
