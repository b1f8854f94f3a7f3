from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz

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
    path("admin/", admin.site.urls),
    path("vendor/", include(vendor_patterns)),
    path("hooks/", include("integrations.urls")),
    path("account/", include("portal.urls")),
]

# Under /vendor/ an unmatched URL answers a problem document like every other vendor error.
handler404 = "subscriptions.api.common.vendor_page_not_found"
