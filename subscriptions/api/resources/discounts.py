"""/vendor/v1/discount-codes: the shop's discount codes."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.response import Response

from subscriptions.api.resources.base import Input, Money, ResourceView, ordering_parameter, problems
from subscriptions.api.resources.filters import DiscountCodeFilter
from subscriptions.models import DiscountCode
from subscriptions.services.discounts import discount_code_create, discount_code_update

TAG = ["Discount codes"]
ORDERING = ("code", "created_at")


class DiscountCodeOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    kind = serializers.ChoiceField(choices=DiscountCode.Kind.choices)
    value = Money(help_text="Percent off, or an amount in `currency` off.")
    currency = serializers.SerializerMethodField()
    applies_to = serializers.ChoiceField(choices=DiscountCode.AppliesTo.choices)
    duration = serializers.ChoiceField(choices=DiscountCode.Duration.choices)
    recurring_count = serializers.IntegerField(allow_null=True)
    active = serializers.BooleanField()
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    usage_limit = serializers.IntegerField(allow_null=True)
    times_used = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_currency(self, obj) -> str:
        return self.context["view"].shop.currency


class DiscountCodeCreateIn(Input):
    code = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=DiscountCode.Kind.choices, default=DiscountCode.Kind.PERCENTAGE)
    value = serializers.DecimalField(max_digits=10, decimal_places=2)
    applies_to = serializers.ChoiceField(
        choices=DiscountCode.AppliesTo.choices, default=DiscountCode.AppliesTo.BOTH
    )
    duration = serializers.ChoiceField(
        choices=DiscountCode.Duration.choices, default=DiscountCode.Duration.ALL
    )
    recurring_count = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True)
    active = serializers.BooleanField(default=True)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    usage_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class DiscountCodeUpdateIn(Input):
    active = serializers.BooleanField(required=False)
    starts_at = serializers.DateTimeField(required=False, allow_null=True)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    usage_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class DiscountCodeViewBase(ResourceView):
    resource = "discounts"
    serializer_class = DiscountCodeOut

    def get_queryset(self):
        return DiscountCode.objects.filter(shop=self.shop)


@extend_schema(tags=TAG)
class DiscountCodeListView(ListModelMixin, DiscountCodeViewBase):
    filterset_class = DiscountCodeFilter
    ordering_fields = ORDERING
    default_ordering = "code"

    @extend_schema(
        summary="List discount codes",
        parameters=[ordering_parameter(ORDERING, "code")],
        responses={200: DiscountCodeOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)

    @extend_schema(
        summary="Create a discount code",
        request=DiscountCodeCreateIn,
        responses={201: DiscountCodeOut, **problems(400, 409)},
    )
    def post(self, request):
        data = self.parse(DiscountCodeCreateIn)
        code = discount_code_create(shop=self.shop, actor=self.actor, **data)
        return Response(self.render(DiscountCodeOut, code), status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class DiscountCodeDetailView(RetrieveModelMixin, DiscountCodeViewBase):
    @extend_schema(summary="Get a discount code", responses={200: DiscountCodeOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)

    @extend_schema(
        summary="Update a discount code",
        request=DiscountCodeUpdateIn,
        responses={200: DiscountCodeOut, **problems(400, 404, 409)},
    )
    def patch(self, request, pk):
        code = self.get_object()
        data = self.parse(DiscountCodeUpdateIn)
        code = discount_code_update(discount_code=code, actor=self.actor, **data)
        return Response(self.render(DiscountCodeOut, code))
