"""Query filters of the resource API. A value that does not parse (a bad date, a non-number id,
an unknown status) answers 400 naming the parameter, never an empty or unfiltered list."""

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from subscriptions.models import ActivityLog, Customer, DiscountCode, Order, Product, Subscription, Variant

BOOLEAN_CHOICES = [("true", "true"), ("false", "false")]


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(filters.ChoiceFilter):
    """`true` or `false`, nothing else (django-filter's own boolean filter ignores a typo)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", BOOLEAN_CHOICES)
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(**{self.field_name: value == "true"})


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    field_class = forms.IntegerField


class CustomerFilter(filters.FilterSet):
    email = filters.CharFilter(field_name="email", lookup_expr="iexact", help_text="Exact email, any case.")
    email_contains = filters.CharFilter(field_name="email", lookup_expr="icontains")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    has_logged_in = BooleanFilter(field_name="has_logged_in")

    class Meta:
        model = Customer
        fields = []


class SubscriptionFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Subscription.Status.choices)
    customer = IdFilter(field_name="customer_id")
    email = filters.CharFilter(
        field_name="customer__email", lookup_expr="iexact", help_text="Customer's email."
    )
    program = IdFilter(field_name="plan__program_id")
    plan = IdFilter(field_name="plan_id")
    next_billing_date_after = filters.DateFilter(
        field_name="next_billing_date", lookup_expr="gte", help_text="On or after this date."
    )
    next_billing_date_before = filters.DateFilter(
        field_name="next_billing_date", lookup_expr="lte", help_text="On or before this date."
    )
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Subscription
        fields = []


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    customer = IdFilter(field_name="customer_id")
    subscription = IdFilter(field_name="subscription_id")
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = []


class ProductFilter(filters.FilterSet):
    active = BooleanFilter(field_name="active")
    title_contains = filters.CharFilter(field_name="title", lookup_expr="icontains")

    class Meta:
        model = Product
        fields = []


class VariantFilter(filters.FilterSet):
    sku = filters.CharFilter(field_name="sku", lookup_expr="iexact")
    product = IdFilter(field_name="product_id")
    available = BooleanFilter(field_name="available")
    archived = BooleanFilter(field_name="archived")

    class Meta:
        model = Variant
        fields = []


class DiscountCodeFilter(filters.FilterSet):
    code = filters.CharFilter(field_name="code", lookup_expr="iexact")
    active = BooleanFilter(field_name="active")

    class Meta:
        model = DiscountCode
        fields = []


class ActivityFilter(filters.FilterSet):
    subscription = IdFilter(field_name="subscription_id")
    customer = IdFilter(field_name="customer_id")
    actor_type = filters.ChoiceFilter(choices=ActivityLog.ActorType.choices)
    action = filters.CharFilter(field_name="action")
    since = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = ActivityLog
        fields = []
