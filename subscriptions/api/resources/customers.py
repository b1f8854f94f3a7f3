"""/vendor/v1/customers: customers, their addresses and payment methods."""

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.response import Response

from subscriptions import services
from subscriptions.api.resources.base import Input, ResourceView, ordering_parameter, problems
from subscriptions.api.resources.filters import CustomerFilter
from subscriptions.models import Address, Customer, PaymentMethod, Subscription
from subscriptions.selectors import customer_get

TAG = ["Customers"]


# ---------------------------------------------------------------- output


class CustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    has_logged_in = serializers.BooleanField()
    subscriber_since = serializers.DateTimeField(allow_null=True)
    external_id = serializers.CharField()
    subscription_count = serializers.IntegerField()
    active_subscription_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AddressOut(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    province = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField()
    phone = serializers.CharField()


class PaymentMethodOut(serializers.Serializer):
    """Never the gateway token: a key holder sees what the customer would see."""

    id = serializers.IntegerField()
    gateway = serializers.CharField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField(allow_null=True)
    exp_year = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


# ---------------------------------------------------------------- input


class CustomerCreateIn(Input):
    email = serializers.EmailField(max_length=254)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    external_id = serializers.CharField(max_length=64, required=False, allow_blank=True)


class CustomerUpdateIn(CustomerCreateIn):
    email = serializers.EmailField(max_length=254, required=False)


class AddressIn(Input):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    province = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class PaymentMethodIn(Input):
    gateway = serializers.ChoiceField(choices=PaymentMethod.Gateway.choices)
    token = serializers.CharField(max_length=255, help_text="The gateway's reference, never a card number.")
    brand = serializers.CharField(max_length=32, required=False, allow_blank=True)
    last4 = serializers.RegexField(r"^\d{4}$", required=False, allow_blank=True)
    exp_month = serializers.IntegerField(min_value=1, max_value=12, required=False, allow_null=True)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True)


# ---------------------------------------------------------------- views


def customers_for(shop):
    live = Q(subscriptions__status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAUSED])
    return Customer.objects.filter(shop=shop).annotate(
        subscription_count=Count("subscriptions", distinct=True),
        active_subscription_count=Count("subscriptions", filter=live, distinct=True),
    )


ORDERING = ("created_at", "updated_at", "email")


@extend_schema(tags=TAG)
class CustomerListView(ListModelMixin, ResourceView):
    resource = "customers"
    serializer_class = CustomerOut
    filterset_class = CustomerFilter
    ordering_fields = ORDERING
    default_ordering = "-created_at"

    def get_queryset(self):
        return customers_for(self.shop)

    @extend_schema(
        summary="List customers",
        parameters=[ordering_parameter(ORDERING, "-created_at")],
        responses={200: CustomerOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Create a customer",
        request=CustomerCreateIn,
        responses={201: CustomerOut, **problems(400, 409)},
    )
    def post(self, request):
        data = self.parse(CustomerCreateIn)
        customer = services.customer_create(shop=self.shop, actor=self.actor, **data)
        return Response(
            self.render(CustomerOut, self.get_queryset().get(pk=customer.pk)), status=status.HTTP_201_CREATED
        )


@extend_schema(tags=TAG)
class CustomerDetailView(RetrieveModelMixin, ResourceView):
    resource = "customers"
    serializer_class = CustomerOut

    def get_queryset(self):
        return customers_for(self.shop)

    @extend_schema(summary="Get a customer", responses={200: CustomerOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)

    @extend_schema(
        summary="Update a customer",
        request=CustomerUpdateIn,
        responses={200: CustomerOut, **problems(400, 404, 409)},
    )
    def patch(self, request, pk):
        customer = self.get_object()
        data = self.parse(CustomerUpdateIn)
        services.customer_update(customer=customer, actor=self.actor, **data)
        return Response(self.render(CustomerOut, self.get_queryset().get(pk=customer.pk)))


class CustomerChildView(ListModelMixin, ResourceView):
    """A list under one customer of the shop (404 when the customer is not the shop's)."""

    resource = "customers"

    def customer(self) -> Customer | None:
        if getattr(self, "swagger_fake_view", False):
            return None
        if not hasattr(self, "_customer"):
            self._customer = customer_get(shop=self.shop, customer_id=self.kwargs["pk"])
        return self._customer


@extend_schema(tags=TAG)
class CustomerAddressesView(CustomerChildView):
    serializer_class = AddressOut

    def get_queryset(self):
        return Address.objects.filter(shop=self.shop, customer=self.customer())

    @extend_schema(
        summary="List a customer's addresses", responses={200: AddressOut(many=True), **problems(400, 404)}
    )
    def get(self, request, pk):
        return self.list(request)

    @extend_schema(
        summary="Add an address", request=AddressIn, responses={201: AddressOut, **problems(400, 404, 409)}
    )
    def post(self, request, pk):
        customer = self.customer()
        data = self.parse(AddressIn)
        address = services.address_create(customer=customer, actor=self.actor, **data)
        return Response(self.render(AddressOut, address), status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class CustomerPaymentMethodsView(CustomerChildView):
    serializer_class = PaymentMethodOut

    def get_queryset(self):
        return PaymentMethod.objects.filter(shop=self.shop, customer=self.customer())

    @extend_schema(
        summary="List a customer's payment methods",
        responses={200: PaymentMethodOut(many=True), **problems(400, 404)},
    )
    def get(self, request, pk):
        return self.list(request)

    @extend_schema(
        summary="Add a payment method",
        request=PaymentMethodIn,
        responses={201: PaymentMethodOut, **problems(400, 404, 409)},
    )
    def post(self, request, pk):
        customer = self.customer()
        data = self.parse(PaymentMethodIn)
        method = services.payment_method_add(customer=customer, actor=self.actor, **data)
        return Response(self.render(PaymentMethodOut, method), status=status.HTTP_201_CREATED)
