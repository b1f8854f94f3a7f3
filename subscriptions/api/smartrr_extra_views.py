"""The rest of Smartrr's vendor API: purchase states by Shopify id (with their orders, bills and
events), customer relationships, orders, bills, purchasables and programs.

Path ids named `shopify...` accept the external (Shopify) id or our own id. Operations that have
no meaning on this installation yet answer 422 `not_supported` after the ids are checked (another
shop's id is still a 404), never a 404 for the route itself.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from subscriptions import services
from subscriptions.api import smartrr_extra_serializers as x
from subscriptions.api.common import SmartrrPagination, VendorView
from subscriptions.api.smartrr_serializers import CustRelSerializer, PurchaseStateSerializer
from subscriptions.errors import DomainError
from subscriptions.models import ActivityLog, Customer, Order, Product
from subscriptions.selectors import (
    activity_for_subscription,
    customer_get,
    customer_list,
    order_get,
    order_history,
    order_list,
    orders_with_details,
    product_get,
    products_with_variants,
    programs_with_plans_and_products,
    subscription_get,
    variant_get,
)
from subscriptions.services.billing import order_retry_payment
from subscriptions.services.catalogue import variant_update


class NotSupported(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This operation is not available on this installation."
    default_code = "not_supported"


NOT_SUPPORTED = {
    422: OpenApiResponse(x.ProblemSerializer, description="Not supported here (code not_supported).")
}
PAGING = [
    OpenApiParameter("pageNumber", int, description="0-based page"),
    OpenApiParameter("pageSize", int, description="1-250, default 50"),
]
ORDER_STATUS = OpenApiParameter(
    "filterEquals[orderStatus]", str, enum=["PENDING", "PAID", "FAILED", "CANCELLED"]
)


class PagedView(VendorView):
    """A paginated list in Smartrr's envelope (`data`, `pageNumber`, `pageSize`, ...)."""

    pagination_class = SmartrrPagination

    def paged(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)


def _order_status(request) -> str | None:
    wanted = request.query_params.get("filterEquals[orderStatus]")
    if not wanted:
        return None
    wanted = wanted.lower()
    if wanted not in Order.Status.values:
        raise exceptions.ValidationError(
            {"filterEquals[orderStatus]": ["Use one of PENDING, PAID, FAILED, CANCELLED."]}
        )
    return wanted


# ---------------------------------------------------------------- purchase states by Shopify id


class PurchaseStateDetailView(VendorView):
    resource = "subscriptions"

    @extend_schema(
        tags=["Purchase states"],
        summary="Get Purchase State By Shopify Subscription ID",
        operation_id="purchase_state_by_shopify_id",
        responses=PurchaseStateSerializer,
    )
    def get(self, request, shopify_subscription_id):
        subscription = subscription_get(shop=self.shop, subscription_id=shopify_subscription_id)
        return Response(PurchaseStateSerializer(subscription).data)


@extend_schema(
    tags=["Orders"],
    summary="Get Orders By Shopify Subscription ID",
    parameters=PAGING,
    responses=x.OrderSerializer(many=True),
)
class PurchaseStateOrdersView(PagedView):
    queryset = Order.objects.none()  # for the schema only; rows come from selectors
    resource = "orders"

    def get(self, request, shopify_subscription_id):
        subscription = subscription_get(shop=self.shop, subscription_id=shopify_subscription_id)
        queryset = orders_with_details(subscription.orders.order_by("-created_at", "-id"))
        return self.paged(queryset, x.OrderSerializer)


@extend_schema(
    tags=["Bills"],
    summary="Get Bills By Shopify Subscription ID",
    parameters=PAGING,
    responses=x.BillSerializer(many=True),
)
class PurchaseStateBillsView(PagedView):
    queryset = Order.objects.none()  # for the schema only; rows come from selectors
    resource = "orders"

    def get(self, request, shopify_subscription_id):
        subscription = subscription_get(shop=self.shop, subscription_id=shopify_subscription_id)
        return self.paged(subscription.orders.order_by("-created_at", "-id"), x.BillSerializer)


@extend_schema(
    tags=["Purchase states"],
    summary="Get Events by Shopify Subscription ID",
    description="The purchase state's activity log, newest first.",
    parameters=PAGING,
    responses=x.EventSerializer(many=True),
)
class PurchaseStateEventsView(PagedView):
    queryset = ActivityLog.objects.none()  # for the schema only; rows come from selectors
    resource = "subscriptions"

    def get(self, request, shopify_subscription_id):
        subscription = subscription_get(shop=self.shop, subscription_id=shopify_subscription_id)
        return self.paged(activity_for_subscription(subscription=subscription), x.EventSerializer)


# ---------------------------------------------------------------- customer relationships


@extend_schema(
    tags=["Customers"],
    summary="Get Customer Relationship",
    parameters=[OpenApiParameter("filterEquals[email]", str), *PAGING],
    responses=CustRelSerializer(many=True),
)
class CustomerRelationshipListView(PagedView):
    queryset = Customer.objects.none()  # for the schema only; rows come from selectors
    resource = "customers"

    def get(self, request):
        queryset = customer_list(shop=self.shop, email=request.query_params.get("filterEquals[email]"))
        return self.paged(queryset, CustRelSerializer)


@extend_schema(
    tags=["Customers"], summary="Get Customer Relationship by Shopify ID", responses=CustRelSerializer
)
class CustomerRelationshipDetailView(VendorView):
    resource = "customers"

    def get(self, request, customer_shopify_id):
        customer = customer_get(shop=self.shop, customer_id=customer_shopify_id)
        return Response(CustRelSerializer(customer).data)


@extend_schema(tags=["Customers"], summary="Get Payment methods", responses=x.PaymentMethodsResponse)
class CustomerPaymentMethodsView(VendorView):
    resource = "customers"

    def get(self, request, customer_relationship_id):
        customer = customer_get(shop=self.shop, customer_id=customer_relationship_id)
        methods = customer.payment_methods.order_by("-created_at", "-id")
        return Response({"data": x.PaymentMethodSerializer(methods, many=True).data})


@extend_schema(
    tags=["Customers"],
    summary="Import Customer Relationship from Shopify Customer",
    description=(
        'Body `{"shopifyCustomerId": "<Shopify customer id>"}`. The customer is read from the shop\'s '
        "connected Shopify store and matched by Shopify id, then by email (never duplicated), or "
        "created. A shop without a connected store answers 422 not_supported."
    ),
    request=x.CustomerImportSerializer,
    responses={200: CustRelSerializer, **NOT_SUPPORTED},
)
class CustomerImportView(VendorView):
    resource = "customers"

    def post(self, request):
        from subscriptions.external import customer_importer

        shopify_id = str(self.parse(x.CustomerImportSerializer).get("shopifyCustomerId") or "").strip()
        importer = customer_importer()
        if importer is None or not importer.connected(self.shop):
            raise NotSupported(
                "This shop is not connected to a Shopify store, so there is no Shopify customer to import; "
                "customers are created here when they subscribe."
            )
        if not shopify_id:
            raise exceptions.ValidationError({"shopifyCustomerId": ["The Shopify customer id is required."]})
        customer = importer.import_customer(self.shop, shopify_id)
        return Response(CustRelSerializer(customer).data)


@extend_schema(
    tags=["Orders"],
    summary="Get Orders by customer ID",
    parameters=[ORDER_STATUS, *PAGING],
    responses=x.OrderSerializer(many=True),
)
class CustomerOrdersView(PagedView):
    queryset = Order.objects.none()  # for the schema only; rows come from selectors
    resource = "orders"

    def get(self, request, cust_rel_id):
        customer = customer_get(shop=self.shop, customer_id=cust_rel_id)
        queryset = customer.orders.order_by("-created_at", "-id")
        wanted = _order_status(request)
        if wanted:
            queryset = queryset.filter(status=wanted)
        return self.paged(orders_with_details(queryset), x.OrderSerializer)


# ---------------------------------------------------------------- orders


@extend_schema(
    tags=["Orders"],
    summary="Get Orders",
    parameters=[ORDER_STATUS, *PAGING],
    responses=x.OrderSerializer(many=True),
)
class OrderListView(PagedView):
    queryset = Order.objects.none()  # for the schema only; rows come from selectors
    resource = "orders"

    def get(self, request):
        return self.paged(order_list(shop=self.shop, status=_order_status(request)), x.OrderSerializer)


@extend_schema(tags=["Orders"], summary="Get Order by Shopify order ID", responses=x.OrderSerializer)
class OrderByShopifyIdView(VendorView):
    resource = "orders"

    def get(self, request, shopify_id):
        return Response(x.OrderSerializer(order_get(shop=self.shop, order_id=shopify_id)).data)


def _render_order(order: Order) -> dict:
    return x.OrderSerializer(order_get(shop=order.shop, order_id=order.pk)).data


@extend_schema(
    tags=["Orders"],
    summary="Open Order",
    description="Open a closed (cancelled) order again; an open order stays as it is.",
    request=None,
    responses=x.OrderSerializer,
)
class OrderOpenView(VendorView):
    resource = "orders"

    def post(self, request, order_id):
        order = order_get(shop=self.shop, order_id=order_id)
        return Response(_render_order(services.order_open(order=order, actor=self.actor)))


@extend_schema(
    tags=["Orders"],
    summary="Close Order",
    description="Cancel an order that has not been paid; a paid or failed order answers 409.",
    responses=x.OrderSerializer,
)
class OrderCloseView(VendorView):
    resource = "orders"

    def delete(self, request, order_id):
        order = order_get(shop=self.shop, order_id=order_id)
        return Response(_render_order(services.order_close(order=order, actor=self.actor)))


# ---------------------------------------------------------------- bills


@extend_schema(
    tags=["Bills"],
    summary="Get Bills",
    parameters=[
        OpenApiParameter("filterEquals[status]", str, enum=["PENDING", "SUCCESS", "FAILED", "CANCELLED"]),
        *PAGING,
    ],
    responses=x.BillSerializer(many=True),
)
class BillListView(PagedView):
    queryset = Order.objects.none()  # for the schema only; rows come from selectors
    resource = "orders"

    def get(self, request):
        wanted = request.query_params.get("filterEquals[status]")
        status_ = None
        if wanted:
            by_bill_status = {v: k for k, v in x.BILL_STATUS.items()}
            status_ = by_bill_status.get(wanted.upper())
            if status_ is None:
                raise exceptions.ValidationError(
                    {"filterEquals[status]": ["Use one of PENDING, SUCCESS, FAILED, CANCELLED."]}
                )
        return self.paged(order_list(shop=self.shop, status=status_), x.BillSerializer)


@extend_schema(tags=["Bills"], summary="Gets bill audit history", responses=x.BillHistoryResponse)
class BillHistoryView(VendorView):
    resource = "orders"

    def get(self, request, bill_id):
        order = order_get(shop=self.shop, order_id=bill_id)
        return Response({"data": x.BillHistoryEntrySerializer(order_history(order=order), many=True).data})


@extend_schema(
    tags=["Bills"],
    summary="Retry a bill",
    description="Charge a failed bill again now (a dunning retry with its own idempotency key). "
    "Only a failed bill can be retried; a paid one is never charged twice (409).",
    request=None,
    responses=x.BillSerializer,
)
class BillRetryView(VendorView):
    resource = "orders"

    def post(self, request, bill_id):
        order = order_get(shop=self.shop, order_id=bill_id)
        if order.status != Order.Status.FAILED:
            raise DomainError(
                f"bill_{order.status}",
                f"Only a failed bill can be retried; this one is {order.get_status_display().lower()}.",
                field="status",
            )
        order_retry_payment(order=order, actor=self.actor)
        return Response(x.BillSerializer(order_get(shop=self.shop, order_id=order.pk)).data)


@extend_schema(
    tags=["Bills"],
    summary="Cancels a bill",
    description="Give up on a failed bill: no more dunning retries, the order is cancelled and never "
    "charged; the subscription carries on. Only a failed bill can be cancelled (409 otherwise, and "
    "while a retry of it is being charged).",
    request=None,
    responses=x.BillSerializer,
)
class BillCancelView(VendorView):
    resource = "orders"

    def post(self, request, bill_id):
        order = order_get(shop=self.shop, order_id=bill_id)
        services.order_cancel_payment(order=order, actor=self.actor)
        return Response(x.BillSerializer(order_get(shop=self.shop, order_id=order.pk)).data)


# ---------------------------------------------------------------- catalogue and programs


class PurchasableListView(PagedView):
    queryset = Product.objects.none()  # for the schema only; rows come from selectors
    resource = "subscriptions"

    @extend_schema(
        tags=["Plans"],
        summary="Get Purchasables",
        parameters=PAGING,
        responses=x.PurchasableSerializer(many=True),
    )
    def get(self, request):
        return self.paged(products_with_variants(shop=self.shop), x.PurchasableSerializer)

    @extend_schema(
        tags=["Plans"],
        summary="Update Purchasable",
        description="Change one variant (price, availability, archive flag, stock or title). A new price "
        "applies to new subscriptions; existing subscribers keep theirs.",
        request=x.PurchasableUpdateInput,
        responses=x.PurchasableSerializer,
    )
    def put(self, request):
        data = self.parse(x.PurchasableUpdateInput)
        variant = variant_get(
            shop=self.shop,
            variant_id=data.get("variantId"),
            external_id=data.get("shopifyVariantId"),
            sku=data.get("sku"),
        )
        changes = {
            name: data[key]
            for key, name in (
                ("title", "title"),
                ("price", "price"),
                ("isAvailable", "available"),
                ("isArchived", "archived"),
                ("inventory", "inventory"),
            )
            if key in data
        }
        variant = variant_update(variant=variant, actor=self.actor, **changes)
        product = product_get(shop=self.shop, product_id=variant.product_id)
        return Response(x.PurchasableSerializer(product).data)


@extend_schema(tags=["Plans"], summary="Get Purchasable by ID", responses=x.PurchasableSerializer)
class PurchasableDetailView(VendorView):
    resource = "subscriptions"

    def get(self, request, id):  # noqa: A002 - Smartrr's path parameter name
        return Response(x.PurchasableSerializer(product_get(shop=self.shop, product_id=id)).data)


@extend_schema(
    tags=["Plans"],
    summary="Get Purchasable Collection",
    description="Each subscription program with the products sold on it.",
    responses=x.PurchasableCollectionResponse,
)
class PurchasableCollectionView(VendorView):
    resource = "subscriptions"

    def get(self, request):
        programs = programs_with_plans_and_products(shop=self.shop)
        return Response({"data": x.PurchasableCollectionSerializer(programs, many=True).data})


@extend_schema(
    tags=["Plans"],
    summary="Get Selling Plan Groups",
    description="Each subscription program with its selling plans.",
    responses=x.SellingPlanGroupResponse,
)
class SellingPlanGroupView(VendorView):
    resource = "subscriptions"

    def get(self, request):
        programs = programs_with_plans_and_products(shop=self.shop)
        return Response({"data": x.SellingPlanGroupSerializer(programs, many=True).data})


@extend_schema(tags=["Plans"], summary="Get all programs for a shop", responses=x.SellingPlanConfigResponse)
class SellingPlanConfigsView(VendorView):
    resource = "subscriptions"

    def get(self, request):
        programs = programs_with_plans_and_products(shop=self.shop)
        return Response({"data": x.SellingPlanConfigSerializer(programs, many=True).data})
