"""Smartrr-compatible vendor endpoints: helpdesk lookup, purchase-state actions, lists, bulk actions.

Each view parses input, calls one service or selector, renders the Smartrr shape.
"""

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from subscriptions import services
from subscriptions.api import smartrr_serializers as s
from subscriptions.api.common import SmartrrPagination, VendorView
from subscriptions.api.smartrr_extra_serializers import ProblemSerializer
from subscriptions.errors import DomainError
from subscriptions.models import Address, PaymentMethod, Plan, Subscription, Variant
from subscriptions.selectors import (
    customer_get,
    customers_by_email_or_name,
    subscription_get,
    subscriptions_with_details,
)


def _variant(shop, item: dict, field: str) -> Variant:
    queryset = Variant.objects.filter(shop=shop).select_related("product")
    variant = (
        queryset.filter(pk=item["variantId"]).first()
        if item.get("variantId")
        else queryset.filter(sku=item["sku"]).first()
    )
    if variant is None:
        raise DomainError("not_found", "That product variant does not exist in this shop.", field=field)
    return variant


def _render(subscription: Subscription) -> dict:
    fresh = subscriptions_with_details(Subscription.objects.filter(pk=subscription.pk)).get()
    return s.PurchaseStateSerializer(fresh).data


@extend_schema(
    tags=["Helpdesk"],
    summary="Get Formatted Orders",
    description="Helpdesk lookup (Gorgias widget): customers whose email or name matches, best match first, "
    "each with their subscriptions, most recent first.",
    parameters=[
        OpenApiParameter(
            "filterLike[emailOrName]", str, required=True, description="Email or name to look up."
        ),
    ],
    responses=s.FormattedOrdersResponse,
)
class FormattedOrdersView(VendorView):
    resource = "subscriptions"

    def get(self, request):
        text = request.query_params.get("filterLike[emailOrName]")
        if text is None or not text.strip():
            raise exceptions.ValidationError(
                {"filterLike[emailOrName]": ["Give an email or a name to look up."]}
            )
        if len(text) > 254:
            raise exceptions.ValidationError({"filterLike[emailOrName]": ["At most 254 characters."]})
        customers = customers_by_email_or_name(shop=self.shop, text=text)
        return Response({"data": [s.formatted_order_dict(customer) for customer in customers]})


class PurchaseStateActionView(VendorView):
    """PUT /vendor/customer/{custRelId}/purchase-state/{purchaseStateId}/<action>."""

    resource = "subscriptions"
    input_serializer = s.EmptyInput
    http_method_names = ["put", "post", "options"]

    # `perform(subscription, data)` is supplied per action by `_action` below.

    def put(self, request, cust_rel_id, purchase_state_id):
        subscription = subscription_get(
            shop=self.shop, subscription_id=purchase_state_id, customer_id=cust_rel_id
        )
        data = self.parse(self.input_serializer, request.data if request.data else {})
        self.perform(subscription, data)
        return Response(_render(subscription))

    def post(self, request, cust_rel_id, purchase_state_id):
        return self.put(request, cust_rel_id, purchase_state_id)


def _action(name: str, summary: str, input_serializer, perform):
    view = type(
        f"{name.title().replace('-', '')}PurchaseStateView",
        (PurchaseStateActionView,),
        {"input_serializer": input_serializer, "perform": lambda self, sub, data: perform(self, sub, data)},
    )
    return extend_schema(
        tags=["Purchase states"],
        summary=summary,
        request=input_serializer,
        responses=s.PurchaseStateSerializer,
        methods=["PUT"],
    )(extend_schema(exclude=True, methods=["POST"])(view))


SkipView = _action(
    "skip",
    "Skip Purchase",
    s.SkipInput,
    lambda v, sub, d: services.subscription_skip(subscription=sub, actor=v.actor, date=d.get("date")),
)
UnskipView = _action(
    "unskip",
    "Unskip Purchase",
    s.UnskipInput,
    lambda v, sub, d: services.subscription_unskip(subscription=sub, actor=v.actor, date=d.get("date")),
)
PauseView = _action(
    "pause",
    "Pause Purchase",
    s.PauseInput,
    lambda v, sub, d: services.subscription_pause(
        subscription=sub, actor=v.actor, resume_on=d.get("unpauseDate")
    ),
)
ActivateView = _action(
    "activate",
    "Activate Purchase",
    s.ActivateInput,
    lambda v, sub, d: services.subscription_activate(
        subscription=sub, actor=v.actor, next_billing_date=d.get("nextBillingDate")
    ),
)
CancelView = _action(
    "cancel",
    "Cancel Purchase",
    s.CancelInput,
    lambda v, sub, d: services.subscription_cancel(
        subscription=sub, actor=v.actor, reason=d.get("reason") or d.get("cancelReason") or ""
    ),
)
NextBillingDateView = _action(
    "next-billing-date",
    "Set Next Billing Date on Purchase",
    s.NextBillingDateInput,
    lambda v, sub, d: services.subscription_set_next_billing_date(
        subscription=sub, actor=v.actor, date=d.get("nextBillingDate") or d.get("date")
    ),
)
SendNowView = _action(
    "send-now",
    "Send Purchase Now",
    s.EmptyInput,
    lambda v, sub, d: services.subscription_send_now(subscription=sub, actor=v.actor),
)


def _gift(view, sub, d):
    services.subscription_gift(
        subscription=sub,
        actor=view.actor,
        recipient_first_name=d["recipientFirstName"],
        recipient_last_name=d.get("recipientLastName", ""),
        recipient_email=d.get("recipientEmail", ""),
        message=d.get("message", ""),
        line1=d["address1"],
        line2=d.get("address2", ""),
        city=d["city"],
        province=d.get("province", ""),
        postal_code=d.get("zip", ""),
        country=d["countryCode"],
    )


GiftView = _action("gift", "Gift Next Purchase", s.GiftInput, _gift)


def _selling_plan(view, sub, d):
    plan = Plan.objects.filter(shop=view.shop, pk=d["sellingPlanId"]).select_related("program").first()
    if plan is None:
        raise DomainError(
            "not_found", "That selling plan does not exist in this shop.", field="sellingPlanId"
        )
    services.subscription_change_plan(subscription=sub, actor=view.actor, plan=plan)


SellingPlanView = _action("selling-plan", "Set Selling Plan on Purchase", s.SellingPlanInput, _selling_plan)


@extend_schema(
    tags=["Purchase states"],
    summary="Add Line Item to Purchase",
    request=s.LineItemInput,
    responses={201: s.PurchaseStateSerializer},
)
class LineItemView(VendorView):
    resource = "subscriptions"

    def post(self, request, cust_rel_id, purchase_state_id):
        subscription = subscription_get(
            shop=self.shop, subscription_id=purchase_state_id, customer_id=cust_rel_id
        )
        data = self.parse(s.LineItemInput)
        variant = _variant(self.shop, data, "variantId" if data.get("variantId") else "sku")
        services.subscription_add_line(
            subscription=subscription, actor=self.actor, variant=variant, quantity=data["quantity"]
        )
        return Response(_render(subscription), status=status.HTTP_201_CREATED)


class PurchaseStateListView(VendorView):
    """GET: the shop's purchase states (filterEquals[purchaseStateStatus], pageNumber/pageSize).
    POST: create a subscription for a customer."""

    resource = "subscriptions"
    pagination_class = SmartrrPagination
    serializer_class = s.PurchaseStateSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no key, no shop
            return Subscription.objects.none()
        queryset = Subscription.objects.filter(shop=self.shop).order_by("-created_at", "-id")
        wanted = self.request.query_params.get("filterEquals[purchaseStateStatus]")
        if wanted:
            wanted = wanted.upper()
            if wanted not in Subscription.Status.values:
                raise exceptions.ValidationError(
                    {
                        "filterEquals[purchaseStateStatus]": [
                            f"Use one of {', '.join(Subscription.Status.values)}."
                        ]
                    }
                )
            queryset = queryset.filter(status=wanted)
        return subscriptions_with_details(queryset)

    @extend_schema(
        tags=["Purchase states"],
        summary="Get Purchase States",
        responses=s.PurchaseStateSerializer(many=True),
        parameters=[
            OpenApiParameter(
                "filterEquals[purchaseStateStatus]", str, enum=["ACTIVE", "PAUSED", "CANCELLED"]
            ),
            OpenApiParameter("pageNumber", int, description="0-based page"),
            OpenApiParameter("pageSize", int, description="1-250, default 50"),
        ],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=["Purchase states"],
        summary="Create Purchase State",
        request=s.PurchaseStateCreateInput,
        responses={
            201: s.PurchaseStateSerializer,
            404: OpenApiResponse(
                ProblemSerializer,
                description="custRelId, sellingPlanId or an item's variant is not one of this shop's "
                "(another shop's ids are 404 too); the problem's errors name the field.",
            ),
        },
    )
    def post(self, request):
        data = self.parse(s.PurchaseStateCreateInput)
        try:
            customer = customer_get(shop=self.shop, customer_id=data["custRelId"])
        except Http404:
            raise DomainError(
                "not_found", "That customer does not exist in this shop.", field="custRelId"
            ) from None
        plan = Plan.objects.filter(shop=self.shop, pk=data["sellingPlanId"]).select_related("program").first()
        if plan is None:
            raise DomainError(
                "not_found", "That selling plan does not exist in this shop.", field="sellingPlanId"
            )
        lines = [
            (_variant(self.shop, item, f"items[{i}]"), item["quantity"])
            for i, item in enumerate(data["items"])
        ]
        payment_method = address = None
        if data.get("paymentMethodId"):
            payment_method = PaymentMethod.objects.filter(
                customer=customer, pk=data["paymentMethodId"]
            ).first()
            if payment_method is None:
                raise DomainError(
                    "not_found",
                    "That payment method does not belong to this customer.",
                    field="paymentMethodId",
                )
        if data.get("addressId"):
            address = Address.objects.filter(customer=customer, pk=data["addressId"]).first()
            if address is None:
                raise DomainError(
                    "not_found", "That address does not belong to this customer.", field="addressId"
                )
        subscription = services.subscription_create(
            customer=customer,
            plan=plan,
            lines=lines,
            actor=self.actor,
            payment_method=payment_method,
            shipping_address=address,
            next_billing_date=data.get("nextBillingDate"),
            external_id=data.get("shopifyId", ""),
        )
        return Response(_render(subscription), status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["Purchase states"],
    summary="Get Purchase States By Customer ID",
    responses=s.PurchaseStateSerializer(many=True),
)
class CustomerPurchaseStatesView(VendorView):
    resource = "subscriptions"
    queryset = Subscription.objects.none()  # for the schema generator; rows come from the customer
    pagination_class = SmartrrPagination
    serializer_class = s.PurchaseStateSerializer

    def get(self, request, cust_rel_id):
        customer = customer_get(shop=self.shop, customer_id=cust_rel_id)
        queryset = subscriptions_with_details(customer.subscriptions.order_by("-created_at", "-id"))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class BulkActionView(VendorView):
    """Apply one action to many purchase states; each succeeds or fails on its own, with its reason."""

    resource = "subscriptions"
    action_name = ""

    def run(self, subscription: Subscription, data: dict) -> None:
        if self.action_name == "cancel":
            services.subscription_cancel(
                subscription=subscription, actor=self.actor, reason=data.get("reason", "")
            )
        elif self.action_name == "pause":
            services.subscription_pause(
                subscription=subscription, actor=self.actor, resume_on=data.get("unpauseDate")
            )
        else:
            services.subscription_skip(subscription=subscription, actor=self.actor)

    @extend_schema(tags=["Purchase states"], request=s.BulkInput, responses=s.BulkResponse)
    def put(self, request):
        data = self.parse(s.BulkInput)
        ids = list(dict.fromkeys(data["purchaseStateIds"]))
        found = {sub.pk: sub for sub in Subscription.objects.filter(shop=self.shop, pk__in=ids)}
        results = []
        for pk in ids:
            subscription = found.get(pk)
            if subscription is None:
                results.append(
                    {
                        "id": pk,
                        "ok": False,
                        "code": "not_found",
                        "message": "No such purchase state in this shop.",
                    }
                )
                continue
            try:
                with transaction.atomic():
                    self.run(subscription, data)
            except DomainError as exc:
                results.append({"id": pk, "ok": False, "code": exc.code, "message": exc.message})
            else:
                results.append({"id": pk, "ok": True, "code": None, "message": None})
        return Response({"data": results})


BulkCancelView = extend_schema(summary="Bulk Cancel Purchases")(
    type("BulkCancelView", (BulkActionView,), {"action_name": "cancel"})
)
BulkPauseView = extend_schema(summary="Bulk Pause Purchases")(
    type("BulkPauseView", (BulkActionView,), {"action_name": "pause"})
)
BulkSkipView = extend_schema(summary="Bulk Skip Purchases")(
    type("BulkSkipView", (BulkActionView,), {"action_name": "skip"})
)


@extend_schema(
    tags=["Keys"],
    summary="Check an API key",
    description="Answers which shop and key a request authenticates as; handy to test a new key.",
    responses=s.PingResponse,
)
class PingView(VendorView):
    def get(self, request):
        key = request.auth
        return Response({"shop": key.shop.domain, "key": key.token_nickname, "prefix": key.prefix})
