from django.contrib import admin
from django.urls import path

from config.health import healthz

admin.site.site_header = "Subscriptions — merchant console"
admin.site.site_title = "Merchant console"
admin.site.index_title = "Your shop"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
