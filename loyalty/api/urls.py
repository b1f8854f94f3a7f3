"""Loyalty routes under /vendor/. Included BEFORE subscriptions' Smartrr routes in config/urls.py,
so the two Smartrr loyalty operations (referral link, orgPoints) are answered here."""

from django.urls import path

from loyalty.api import views as v

CR = "customer-relationship"
LC = "v1/loyalty/customers/<int:pk>"

urlpatterns = [
    path(f"{LC}/balance", v.BalanceView.as_view(), name="v1-loyalty-balance"),
    path(f"{LC}/ledger", v.LedgerView.as_view(), name="v1-loyalty-ledger"),
    path(f"{LC}/redeem", v.RedeemView.as_view(), name="v1-loyalty-redeem"),
    path(f"{LC}/referral-code", v.ReferralCodeView.as_view(), name="v1-loyalty-referral-code"),
    path("v1/loyalty/rewards", v.RewardListView.as_view(), name="v1-loyalty-rewards"),
    path(
        f"{CR}/<str:customer_shopify_id>/referral-link",
        v.CustomerReferralLinkView.as_view(),
        name="vendor-customer-relationship-referral-link",
    ),
    path(
        f"{CR}/<str:customer_relationship_id>/orgPoints",
        v.CustomerOrgPointsView.as_view(),
        name="vendor-customer-relationship-org-points",
    ),
]
