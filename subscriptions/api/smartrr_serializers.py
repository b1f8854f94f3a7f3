"""Smartrr wire shapes: a customer is a "customer relationship" (custRel), a subscription a
"purchase state". Field names are Smartrr's so existing helpdesk widgets keep working."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from subscriptions.api.common import StrictSerializer
from subscriptions.selectors import effective_next_order_date


class CustRelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    phone = serializers.CharField()
    hasLoggedIn = serializers.BooleanField(source="has_logged_in")
    subscriberSince = serializers.DateTimeField(source="subscriber_since", allow_null=True)
    shopifyId = serializers.CharField(source="external_id")
    createdDate = serializers.DateTimeField(source="created_at")


class PurchaseStateItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    productName = serializers.CharField(source="variant.product.title")
    variantName = serializers.CharField(source="variant.title")
    variantId = serializers.IntegerField(source="variant.id")
    sku = serializers.CharField(source="variant.sku")
    quantity = serializers.IntegerField()
    amount = serializers.DecimalField(source="unit_price", max_digits=12, decimal_places=2)
    totalAmount = serializers.DecimalField(source="total", max_digits=14, decimal_places=2)
    currency = serializers.CharField(source="subscription.currency")


class PurchaseStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    custRelId = serializers.IntegerField(source="customer_id")
    shopifyId = serializers.CharField(source="external_id")
    purchaseStateStatus = serializers.CharField(source="status")
    status = serializers.CharField()
    program = serializers.CharField(source="plan.program.name")
    plan = serializers.CharField(source="plan.name")
    sellingPlanId = serializers.IntegerField(source="plan_id")
    frequencyUnit = serializers.CharField(source="plan.interval_unit")
    frequencyInterval = serializers.IntegerField(source="plan.interval_count")
    nextBillingDate = serializers.SerializerMethodField()
    scheduledBillingDate = serializers.DateField(source="next_billing_date", allow_null=True)
    skippedDates = serializers.SerializerMethodField()
    unpauseDate = serializers.DateField(source="auto_resume_date", allow_null=True)
    cancelReason = serializers.CharField(source="cancel_reason")
    createdDate = serializers.DateTimeField(source="created_at")
    updatedDate = serializers.DateTimeField(source="updated_at")
    orderCount = serializers.IntegerField(source="order_count")
    currency = serializers.CharField()
    totalAmount = serializers.SerializerMethodField()
    items = PurchaseStateItemSerializer(source="lines.all", many=True)

    def get_nextBillingDate(self, obj) -> str | None:  # noqa: N802 - Smartrr's field name
        """The next date an order is really placed (skipped dates stepped over)."""
        date = effective_next_order_date(obj) if obj.status == "ACTIVE" else obj.next_billing_date
        return date.isoformat() if date else None

    def get_skippedDates(self, obj) -> list[str]:  # noqa: N802
        return [s.date.isoformat() for s in getattr(obj, "active_skips", [])]

    def get_totalAmount(self, obj) -> str:  # noqa: N802
        return str(sum((line.total for line in obj.lines.all()), start=Decimal("0.00")))


class FormattedOrderSerializer(serializers.Serializer):
    custRel = CustRelSerializer(source="*")
    sts = PurchaseStateSerializer(source="recent_subscriptions", many=True)


class FormattedOrdersResponse(serializers.Serializer):
    data = FormattedOrderSerializer(many=True)


# ---------------------------------------------------------------- inputs


class SkipInput(StrictSerializer):
    date = serializers.DateField(required=False, help_text="A scheduled order date; default the next order.")


class UnskipInput(SkipInput):
    pass


class PauseInput(StrictSerializer):
    unpauseDate = serializers.DateField(
        required=False, allow_null=True, help_text="Resume automatically on this date."
    )


class ActivateInput(StrictSerializer):
    nextBillingDate = serializers.DateField(required=False, allow_null=True)


class CancelInput(StrictSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    cancelReason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class NextBillingDateInput(StrictSerializer):
    nextBillingDate = serializers.DateField(required=False)
    date = serializers.DateField(required=False)

    def validate(self, attrs):
        if not attrs.get("nextBillingDate") and not attrs.get("date"):
            raise serializers.ValidationError({"nextBillingDate": ["This field is required."]})
        return attrs


class EmptyInput(StrictSerializer):
    pass


class GiftInput(StrictSerializer):
    recipientFirstName = serializers.CharField(max_length=100)
    recipientLastName = serializers.CharField(max_length=100, required=False, allow_blank=True)
    recipientEmail = serializers.EmailField(required=False, allow_blank=True)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    address1 = serializers.CharField(max_length=200)
    address2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    zip = serializers.CharField(max_length=20, required=False, allow_blank=True)
    countryCode = serializers.CharField(min_length=2, max_length=2)


class SellingPlanInput(StrictSerializer):
    sellingPlanId = serializers.IntegerField(min_value=1)


class LineItemInput(StrictSerializer):
    variantId = serializers.IntegerField(min_value=1, required=False)
    sku = serializers.CharField(max_length=64, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=1000, default=1)

    def validate(self, attrs):
        if not attrs.get("variantId") and not attrs.get("sku"):
            raise serializers.ValidationError({"variantId": ["Give variantId or sku."]})
        return attrs


class PurchaseStateCreateInput(StrictSerializer):
    custRelId = serializers.IntegerField(min_value=1)
    sellingPlanId = serializers.IntegerField(min_value=1)
    items = LineItemInput(many=True, allow_empty=False)
    nextBillingDate = serializers.DateField(required=False)
    paymentMethodId = serializers.IntegerField(min_value=1, required=False)
    addressId = serializers.IntegerField(min_value=1, required=False)
    shopifyId = serializers.CharField(max_length=64, required=False, allow_blank=True)


class BulkInput(StrictSerializer):
    purchaseStateIds = serializers.ListField(
        child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=250
    )
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    unpauseDate = serializers.DateField(required=False, allow_null=True)


class BulkResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    code = serializers.CharField(allow_null=True)
    message = serializers.CharField(allow_null=True)


class BulkResponse(serializers.Serializer):
    data = BulkResultSerializer(many=True)


class PingResponse(serializers.Serializer):
    shop = serializers.CharField()
    key = serializers.CharField()
    prefix = serializers.CharField()


CENT = Decimal("0.01")


# ---------------------------------------------------------------- fast rendering of the lookup
# The helpdesk lookup runs on every ticket event: it renders the same shapes as the serializers
# above (which document it in the schema) with plain functions, several times faster than DRF's
# nested fields. tests/api/test_formatted_render.py keeps the two identical.


def _dt(value) -> str | None:
    if value is None:
        return None
    text = timezone.localtime(value, dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _money(value) -> str:
    return str(Decimal(value).quantize(CENT))


def cust_rel_dict(customer) -> dict:
    return {
        "id": customer.pk,
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "phone": customer.phone,
        "hasLoggedIn": customer.has_logged_in,
        "subscriberSince": _dt(customer.subscriber_since),
        "shopifyId": customer.external_id,
        "createdDate": _dt(customer.created_at),
    }


def purchase_state_dict(sub) -> dict:
    lines = list(sub.lines.all())
    skips = getattr(sub, "active_skips", [])
    next_date = effective_next_order_date(sub) if sub.status == "ACTIVE" else sub.next_billing_date
    return {
        "id": sub.pk,
        "custRelId": sub.customer_id,
        "shopifyId": sub.external_id,
        "purchaseStateStatus": sub.status,
        "status": sub.status,
        "program": sub.plan.program.name,
        "plan": sub.plan.name,
        "sellingPlanId": sub.plan_id,
        "frequencyUnit": sub.plan.interval_unit,
        "frequencyInterval": sub.plan.interval_count,
        "nextBillingDate": next_date.isoformat() if next_date else None,
        "scheduledBillingDate": sub.next_billing_date.isoformat() if sub.next_billing_date else None,
        "skippedDates": [skip.date.isoformat() for skip in skips],
        "unpauseDate": sub.auto_resume_date.isoformat() if sub.auto_resume_date else None,
        "cancelReason": sub.cancel_reason,
        "createdDate": _dt(sub.created_at),
        "updatedDate": _dt(sub.updated_at),
        "orderCount": sub.order_count,
        "currency": sub.currency,
        "totalAmount": str(sum((line.total for line in lines), start=Decimal("0.00"))),
        "items": [
            {
                "id": line.pk,
                "productName": line.variant.product.title,
                "variantName": line.variant.title,
                "variantId": line.variant.pk,
                "sku": line.variant.sku,
                "quantity": line.quantity,
                "amount": _money(line.unit_price),
                "totalAmount": _money(line.total),
                "currency": sub.currency,
            }
            for line in lines
        ],
    }


def formatted_order_dict(customer) -> dict:
    return {
        "custRel": cust_rel_dict(customer),
        "sts": [purchase_state_dict(s) for s in customer.recent_subscriptions],
    }
