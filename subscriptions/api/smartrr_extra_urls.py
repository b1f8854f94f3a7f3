"""The rest of Smartrr's vendor API (mounted under /vendor/, after subscriptions.api.urls).

The loyalty operations (referral-link, orgPoints) live in loyalty/api/urls.py.
Path parameters keep Smartrr's meaning: `shopify_*` ids accept the external id or our own id.
"""

from django.urls import path

from subscriptions.api import smartrr_extra_views as v

PS = "purchase-state/<str:shopify_subscription_id>"
CR = "customer-relationship"

urlpatterns = [
    path(PS, v.PurchaseStateDetailView.as_view(), name="vendor-purchase-state-detail"),
    path(f"{PS}/orders", v.PurchaseStateOrdersView.as_view(), name="vendor-purchase-state-orders"),
    path(f"{PS}/bills", v.PurchaseStateBillsView.as_view(), name="vendor-purchase-state-bills"),
    path(f"{PS}/events", v.PurchaseStateEventsView.as_view(), name="vendor-purchase-state-events"),
    path(CR, v.CustomerRelationshipListView.as_view(), name="vendor-customer-relationship-list"),
    path(f"{CR}/import", v.CustomerImportView.as_view(), name="vendor-customer-relationship-import"),
    path(
        f"{CR}/<str:customer_shopify_id>",
        v.CustomerRelationshipDetailView.as_view(),
        name="vendor-customer-relationship-detail",
    ),
    path(
        f"{CR}/<str:customer_relationship_id>/payment-methods",
        v.CustomerPaymentMethodsView.as_view(),
        name="vendor-customer-relationship-payment-methods",
    ),
    path("customer/<str:cust_rel_id>/orders", v.CustomerOrdersView.as_view(), name="vendor-customer-orders"),
    path("order", v.OrderListView.as_view(), name="vendor-order-list"),
    path("orders/<str:shopify_id>", v.OrderByShopifyIdView.as_view(), name="vendor-order-by-shopify-id"),
    path("order/<str:order_id>/open", v.OrderOpenView.as_view(), name="vendor-order-open"),
    path("order/<str:order_id>", v.OrderCloseView.as_view(), name="vendor-order-close"),
    path("bill", v.BillListView.as_view(), name="vendor-bill-list"),
    path("bill/<str:bill_id>/history", v.BillHistoryView.as_view(), name="vendor-bill-history"),
    path("bill/<str:bill_id>/retry", v.BillRetryView.as_view(), name="vendor-bill-retry"),
    path("bill/<str:bill_id>/cancel", v.BillCancelView.as_view(), name="vendor-bill-cancel"),
    path("purchasable", v.PurchasableListView.as_view(), name="vendor-purchasable-list"),
    path("purchasable/<str:id>", v.PurchasableDetailView.as_view(), name="vendor-purchasable-detail"),
    path(
        "purchasable-collection", v.PurchasableCollectionView.as_view(), name="vendor-purchasable-collection"
    ),
    path("selling-plan-group", v.SellingPlanGroupView.as_view(), name="vendor-selling-plan-group"),
    path("selling-plan-configs", v.SellingPlanConfigsView.as_view(), name="vendor-selling-plan-configs"),
]
