"""Vendor API routes of the subscription domain (mounted under /vendor/)."""

from django.urls import path

from subscriptions.api import smartrr_views as v

PS = "customer/<str:cust_rel_id>/purchase-state/<str:purchase_state_id>"

urlpatterns = [
    path("ping", v.PingView.as_view(), name="vendor-ping"),
    path("order/formatted", v.FormattedOrdersView.as_view(), name="vendor-order-formatted"),
    path("purchase-state", v.PurchaseStateListView.as_view(), name="vendor-purchase-state-list"),
    path(
        "customer/<str:cust_rel_id>/purchase-state/",
        v.CustomerPurchaseStatesView.as_view(),
        name="vendor-customer-purchase-states",
    ),
    path("customer/purchase-state/bulk-cancel", v.BulkCancelView.as_view(), name="vendor-bulk-cancel"),
    path("customer/purchase-state/bulk-pause", v.BulkPauseView.as_view(), name="vendor-bulk-pause"),
    path("customer/purchase-state/bulk-skip", v.BulkSkipView.as_view(), name="vendor-bulk-skip"),
    path(f"{PS}/skip", v.SkipView.as_view(), name="vendor-ps-skip"),
    path(f"{PS}/unskip", v.UnskipView.as_view(), name="vendor-ps-unskip"),
    path(f"{PS}/pause", v.PauseView.as_view(), name="vendor-ps-pause"),
    path(f"{PS}/activate", v.ActivateView.as_view(), name="vendor-ps-activate"),
    path(f"{PS}/cancel", v.CancelView.as_view(), name="vendor-ps-cancel"),
    path(f"{PS}/next-billing-date", v.NextBillingDateView.as_view(), name="vendor-ps-next-billing-date"),
    path(f"{PS}/send-now", v.SendNowView.as_view(), name="vendor-ps-send-now"),
    path(f"{PS}/gift", v.GiftView.as_view(), name="vendor-ps-gift"),
    path(f"{PS}/selling-plan", v.SellingPlanView.as_view(), name="vendor-ps-selling-plan"),
    path(f"{PS}/line-item", v.LineItemView.as_view(), name="vendor-ps-line-item"),
]
