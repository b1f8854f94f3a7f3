"""Resource API routes (mounted under /vendor/, all under v1/ so they never meet Smartrr's paths)."""

from django.urls import path

from subscriptions.api.resources import activity, catalogue, customers, discounts, orders
from subscriptions.api.resources import subscriptions as subs

urlpatterns = [
    path("v1/customers", customers.CustomerListView.as_view(), name="v1-customer-list"),
    path("v1/customers/<int:pk>", customers.CustomerDetailView.as_view(), name="v1-customer-detail"),
    path(
        "v1/customers/<int:pk>/addresses",
        customers.CustomerAddressesView.as_view(),
        name="v1-customer-addresses",
    ),
    path(
        "v1/customers/<int:pk>/payment-methods",
        customers.CustomerPaymentMethodsView.as_view(),
        name="v1-customer-payment-methods",
    ),
    path("v1/subscriptions", subs.SubscriptionListView.as_view(), name="v1-subscription-list"),
    path("v1/subscriptions/<int:pk>", subs.SubscriptionDetailView.as_view(), name="v1-subscription-detail"),
    *[
        path(f"v1/subscriptions/<int:pk>/actions/{name}", view.as_view(), name=f"v1-subscription-{name}")
        for name, view in subs.ACTIONS.items()
    ],
    path("v1/orders", orders.OrderListView.as_view(), name="v1-order-list"),
    path("v1/orders/<int:pk>", orders.OrderDetailView.as_view(), name="v1-order-detail"),
    path("v1/products", catalogue.ProductListView.as_view(), name="v1-product-list"),
    path("v1/products/<int:pk>", catalogue.ProductDetailView.as_view(), name="v1-product-detail"),
    path("v1/variants", catalogue.VariantListView.as_view(), name="v1-variant-list"),
    path("v1/variants/<int:pk>", catalogue.VariantDetailView.as_view(), name="v1-variant-detail"),
    path("v1/discount-codes", discounts.DiscountCodeListView.as_view(), name="v1-discount-code-list"),
    path(
        "v1/discount-codes/<int:pk>",
        discounts.DiscountCodeDetailView.as_view(),
        name="v1-discount-code-detail",
    ),
    path("v1/activity", activity.ActivityListView.as_view(), name="v1-activity-list"),
]
