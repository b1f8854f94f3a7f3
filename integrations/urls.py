"""Inbound partner hooks, mounted under /hooks/ (config/urls.py). One block per partner."""

from django.urls import path

from integrations.hooks import shopify_flow

app_name = "hooks"

urlpatterns = [
    # Shopify Flow actions (the runtime URLs of the app's Flow action extensions).
    path(
        "shopify-flow/actions/skip-next-order",
        shopify_flow.skip_next_order,
        name="shopify-flow-skip-next-order",
    ),
    path(
        "shopify-flow/actions/pause-subscription",
        shopify_flow.pause_subscription,
        name="shopify-flow-pause-subscription",
    ),
]
