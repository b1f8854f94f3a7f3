"""Inbound partner hooks, mounted under /hooks/ (config/urls.py). One block per partner."""

from django.urls import path

from integrations.hooks import attentive, gorgias, postscript, shopify_flow

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
    # Attentive OAuth (the install link of the console's Integrations page, and the redirect URI).
    path("attentive/oauth/start", attentive.oauth_start, name="attentive-oauth-start"),
    path("attentive/oauth/callback", attentive.oauth_callback, name="attentive-oauth-callback"),
    # Gorgias OAuth (only when a Gorgias app is configured; otherwise the API key form is used).
    path("gorgias/oauth/start", gorgias.oauth_start, name="gorgias-oauth-start"),
    path("gorgias/oauth/callback", gorgias.oauth_callback, name="gorgias-oauth-callback"),
    # Postscript SMS replies (the callback URL registered on connect; one token per integration).
    path("postscript/<str:token>/", postscript.incoming_message, name="postscript-inbound"),
]
