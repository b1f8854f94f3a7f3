"""/vendor/v1/products and /vendor/v1/variants. The catalogue has no permission of its own: it is
part of "subscriptions"."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.response import Response

from subscriptions.api.resources.base import Input, Money, ResourceView, ordering_parameter, problems
from subscriptions.api.resources.filters import ProductFilter, VariantFilter
from subscriptions.models import Product, Variant
from subscriptions.services.catalogue import product_update, variant_update

TAG = ["Catalogue"]
PRODUCT_ORDERING = ("title", "created_at")
VARIANT_ORDERING = ("sku", "price")


class VariantOut(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    sku = serializers.CharField()
    price = Money()
    currency = serializers.SerializerMethodField()
    available = serializers.BooleanField()
    archived = serializers.BooleanField()
    inventory = serializers.IntegerField(allow_null=True, help_text="Empty when stock is not tracked.")
    purchasable = serializers.BooleanField()
    external_id = serializers.CharField()

    def get_currency(self, obj) -> str:
        return self.context["view"].shop.currency


class VariantWithProductOut(VariantOut):
    product_title = serializers.CharField(source="product.title")


class ProductOut(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    external_id = serializers.CharField()
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    variants = VariantOut(many=True, source="variants.all")


class ProductUpdateIn(Input):
    title = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class VariantUpdateIn(Input):
    title = serializers.CharField(max_length=255, required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    available = serializers.BooleanField(required=False)
    archived = serializers.BooleanField(required=False)
    inventory = serializers.IntegerField(required=False, allow_null=True)


class ProductViewBase(ResourceView):
    resource = "subscriptions"
    serializer_class = ProductOut

    def get_queryset(self):
        return Product.objects.filter(shop=self.shop).prefetch_related(
            Prefetch("variants", queryset=Variant.objects.order_by("title", "id"))
        )


@extend_schema(tags=TAG)
class ProductListView(ListModelMixin, ProductViewBase):
    filterset_class = ProductFilter
    ordering_fields = PRODUCT_ORDERING
    default_ordering = "title"

    @extend_schema(
        summary="List products",
        parameters=[ordering_parameter(PRODUCT_ORDERING, "title")],
        responses={200: ProductOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)


@extend_schema(tags=TAG)
class ProductDetailView(RetrieveModelMixin, ProductViewBase):
    @extend_schema(summary="Get a product with its variants", responses={200: ProductOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)

    @extend_schema(
        summary="Update a product",
        request=ProductUpdateIn,
        responses={200: ProductOut, **problems(400, 404, 409)},
    )
    def patch(self, request, pk):
        product = self.get_object()
        data = self.parse(ProductUpdateIn)
        product_update(product=product, actor=self.actor, **data)
        return Response(self.render(ProductOut, self.get_queryset().get(pk=product.pk)))


class VariantViewBase(ResourceView):
    resource = "subscriptions"
    serializer_class = VariantWithProductOut

    def get_queryset(self):
        return Variant.objects.filter(shop=self.shop).select_related("product")


@extend_schema(tags=TAG)
class VariantListView(ListModelMixin, VariantViewBase):
    filterset_class = VariantFilter
    ordering_fields = VARIANT_ORDERING
    default_ordering = "sku"

    @extend_schema(
        summary="List variants",
        parameters=[ordering_parameter(VARIANT_ORDERING, "sku")],
        responses={200: VariantWithProductOut(many=True), **problems(400)},
    )
    def get(self, request):
        return self.list(request)


@extend_schema(tags=TAG)
class VariantDetailView(RetrieveModelMixin, VariantViewBase):
    @extend_schema(summary="Get a variant", responses={200: VariantWithProductOut, **problems(404)})
    def get(self, request, pk):
        return self.retrieve(request, pk)

    @extend_schema(
        summary="Update a variant's price, availability or stock",
        request=VariantUpdateIn,
        responses={200: VariantWithProductOut, **problems(400, 404, 409)},
    )
    def patch(self, request, pk):
        variant = self.get_object()
        data = self.parse(VariantUpdateIn)
        variant_update(variant=variant, actor=self.actor, **data)
        return Response(self.render(VariantWithProductOut, self.get_queryset().get(pk=variant.pk)))
