"""The catalogue in the console: products with their variants, programs with their plans.
These rows have no lifecycle, so the console edits them directly (discount codes: see `discounts`)."""

from django.contrib import admin
from django.db.models import Count

from subscriptions.admin.tenancy import ConsoleModelAdmin, ConsoleTabularInline
from subscriptions.models import Plan, Product, SubscriptionProgram, Variant


class VariantInline(ConsoleTabularInline):
    model = Variant
    fields = ("title", "sku", "price", "available", "archived", "inventory", "external_id")


@admin.register(Product)
class ProductAdmin(ConsoleModelAdmin):
    list_display = ("title", "active", "variant_count", "created_at")
    list_filter = ("active",)
    search_fields = ("title", "variants__sku", "external_id")
    fields = ("title", "description", "active", "external_id")
    inlines = (VariantInline,)

    def get_queryset(self, request):
        # Grouping drops the model's default ordering; autocomplete pages need a stable one.
        return (
            super().get_queryset(request).annotate(variants_total=Count("variants")).order_by("title", "id")
        )

    @admin.display(description="variants", ordering="variants_total")
    def variant_count(self, obj):
        return obj.variants_total


class PlanInline(ConsoleTabularInline):
    model = Plan
    fields = (
        "name",
        "interval_unit",
        "interval_count",
        "discount_type",
        "discount_value",
        "min_cycles",
        "max_cycles",
        "active",
    )


@admin.register(SubscriptionProgram)
class SubscriptionProgramAdmin(ConsoleModelAdmin):
    list_display = ("name", "active", "plan_count", "product_count")
    list_filter = ("active",)
    search_fields = ("name",)
    fields = ("name", "description", "active", "products")
    filter_horizontal = ("products",)
    inlines = (PlanInline,)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                plans_total=Count("plans", distinct=True), products_total=Count("products", distinct=True)
            )
            .order_by("name", "id")
        )

    @admin.display(description="plans", ordering="plans_total")
    def plan_count(self, obj):
        return obj.plans_total

    @admin.display(description="products", ordering="products_total")
    def product_count(self, obj):
        return obj.products_total
