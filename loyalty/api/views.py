"""Vendor API for loyalty (resource "loyalty"): balances, the ledger, redemptions, referral codes,
rewards; and Smartrr's two loyalty operations (referral link, manual points adjustment)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.mixins import ListModelMixin
from rest_framework.response import Response

from loyalty import services
from loyalty.models import CustomerBalance, LedgerEntry, ReferralCode, Reward
from subscriptions.api.resources.base import Input, InShop, ResourceView, problems
from subscriptions.models import Customer, Subscription
from subscriptions.selectors import customer_get

TAG = ["Loyalty"]


# ---------------------------------------------------------------- output


class BalanceOut(serializers.Serializer):
    customer = serializers.IntegerField()
    points = serializers.IntegerField()


class LedgerEntryOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    points = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class RewardOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    value = serializers.DecimalField(max_digits=10, decimal_places=2, coerce_to_string=True)
    variant = serializers.IntegerField(source="variant_id", allow_null=True)
    points_cost = serializers.IntegerField()


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    reward = serializers.IntegerField(source="reward_id")
    subscription = serializers.IntegerField(source="subscription_id", allow_null=True)
    points = serializers.IntegerField()
    discount_code = serializers.CharField(source="discount_code.code")
    balance = serializers.IntegerField(source="ledger_entry.balance_after")
    created_at = serializers.DateTimeField()


class ReferralCodeOut(serializers.Serializer):
    code = serializers.CharField(allow_null=True)
    link = serializers.CharField(allow_null=True)


class AdjustmentOut(serializers.Serializer):
    points = serializers.IntegerField()
    balance = serializers.IntegerField(source="balance_after")
    reason = serializers.CharField()


# ---------------------------------------------------------------- input


class RedeemIn(Input):
    reward = InShop(Reward, "reward", queryset=Reward.objects.filter(active=True))
    subscription = InShop(Subscription, "subscription")


class AdjustIn(Input):
    points = serializers.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Signed: positive adds points, negative removes them.",
    )
    reason = serializers.CharField(max_length=255)

    def validate_points(self, value):
        if value == 0:
            raise serializers.ValidationError("Enter a whole number of points other than 0.")
        return value


# ---------------------------------------------------------------- helpers


def balance_of(customer: Customer) -> int:
    return CustomerBalance.objects.filter(customer=customer).values_list("points", flat=True).first() or 0


def referral_out(customer: Customer, code: ReferralCode | None) -> dict:
    if code is None:
        return {"code": None, "link": None}
    return {"code": code.code, "link": code.link}


class LoyaltyView(ResourceView):
    resource = "loyalty"

    def customer(self, pk) -> Customer:
        return Customer.objects.select_related("shop").get(shop=self.shop, pk=pk)


# ---------------------------------------------------------------- /vendor/v1/loyalty/...


@extend_schema(tags=TAG)
class BalanceView(LoyaltyView):
    @extend_schema(summary="Get a customer's points balance", responses={200: BalanceOut, **problems(404)})
    def get(self, request, pk):
        customer = self.customer(pk)
        return Response({"customer": customer.pk, "points": balance_of(customer)})


@extend_schema(tags=TAG)
class LedgerView(ListModelMixin, LoyaltyView):
    serializer_class = LedgerEntryOut
    ordering_fields = ("created_at",)
    default_ordering = "-created_at"

    def get_queryset(self):
        return LedgerEntry.objects.filter(shop=self.shop, customer_id=self.kwargs.get("pk"))

    @extend_schema(
        summary="List a customer's points history, newest first",
        responses={200: LedgerEntryOut(many=True), **problems(400, 404)},
    )
    def get(self, request, pk):
        self.customer(pk)
        return self.list(request)


@extend_schema(tags=TAG)
class RedeemView(LoyaltyView):
    @extend_schema(
        summary="Redeem points for a reward on one of the customer's subscriptions",
        request=RedeemIn,
        responses={201: RedemptionOut, **problems(400, 404, 409)},
    )
    def post(self, request, pk):
        customer = self.customer(pk)
        data = self.parse(RedeemIn)
        redemption = services.reward_redeem(
            customer=customer, reward=data["reward"], subscription=data["subscription"], actor=self.actor
        )
        return Response(RedemptionOut(redemption).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG)
class ReferralCodeView(LoyaltyView):
    @extend_schema(
        summary="Get a customer's referral code and link (null when none was made yet)",
        responses={200: ReferralCodeOut, **problems(404)},
    )
    def get(self, request, pk):
        customer = self.customer(pk)
        return Response(referral_out(customer, ReferralCode.objects.filter(customer=customer).first()))

    @extend_schema(
        summary="Make the customer's referral code (returns the existing one if there is one)",
        request=None,
        responses={200: ReferralCodeOut, **problems(404)},
    )
    def post(self, request, pk):
        customer = self.customer(pk)
        code = services.referral_code_generate(customer=customer, actor=self.actor)
        return Response(referral_out(customer, code))


@extend_schema(tags=TAG)
class RewardListView(ListModelMixin, LoyaltyView):
    serializer_class = RewardOut
    ordering_fields = ("points_cost",)
    default_ordering = "points_cost"

    def get_queryset(self):
        return Reward.objects.filter(shop=self.shop, active=True)

    @extend_schema(summary="List the active rewards", responses={200: RewardOut(many=True), **problems(400)})
    def get(self, request):
        return self.list(request)


# ---------------------------------------------------------------- Smartrr operations


@extend_schema(
    tags=TAG,
    summary="Get customer referral code and link",
    description=(
        "Makes the customer's referral code on first request when the key may write `loyalty`; "
        "a read-only key gets the existing code, or nulls when none was made yet."
    ),
    responses={200: ReferralCodeOut, **problems(404)},
)
class CustomerReferralLinkView(LoyaltyView):
    def get(self, request, customer_shopify_id):
        customer = customer_get(shop=self.shop, customer_id=customer_shopify_id)
        if request.auth.allows("loyalty", write=True):
            code = services.referral_code_generate(customer=customer, actor=self.actor)
        else:
            code = ReferralCode.objects.filter(customer=customer).first()
        return Response(referral_out(customer, code))


@extend_schema(
    tags=TAG,
    summary="Add loyalty points to customer",
    description="A manual adjustment (signed points) with the reason on record. Never below zero.",
    request=AdjustIn,
    responses={200: AdjustmentOut, **problems(400, 404, 409)},
)
class CustomerOrgPointsView(LoyaltyView):
    def put(self, request, customer_relationship_id):
        customer = customer_get(shop=self.shop, customer_id=customer_relationship_id)
        data = self.parse(AdjustIn)
        reason = f"{data['reason']} (API: {request.auth.token_nickname})"
        entry = services.points_adjust(customer=customer, points=data["points"], staff=None, reason=reason)
        return Response(AdjustmentOut(entry).data)
