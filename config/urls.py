from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from notifications.views import twilio_inbound

admin.site.site_header = "Subscriptions — merchant console"
admin.site.site_title = "Merchant console"
admin.site.index_title = "Your shop"

vendor_patterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="vendor-schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="vendor-schema", authentication_classes=[], permission_classes=[]
        ),
        name="vendor-docs",
    ),
    # First: loyalty answers two Smartrr paths (referral-link, orgPoints) subscriptions cannot.
    path("", include("loyalty.api.urls")),
    path("", include("subscriptions.api.urls")),
    path("", include("subscriptions.api.smartrr_extra_urls")),
    path("", include("subscriptions.api.resource_urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The console's own pages (dashboard, customer overview, bulk jobs, CSV), inside the admin.
    path("admin/console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("vendor/", include(vendor_patterns)),
    # Twilio SMS replies (the notifications app's SMS provider), beside the integrations' hooks.
    path("hooks/twilio/<str:token>/", twilio_inbound, name="twilio-inbound"),
    path("hooks/shopify/", include("shopify.urls")),
    path("hooks/", include("integrations.urls")),
    path("notifications/", include("notifications.urls")),
    path("account/", include("portal.urls")),
    path("subscribe/", include("portal.checkout.urls")),
]

# Under /vendor/ an unmatched URL answers a problem document like every other vendor error.
handler404 = "subscriptions.api.common.vendor_page_not_found"
