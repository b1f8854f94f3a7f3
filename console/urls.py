"""Console pages under /admin/console/, each behind the admin's sign-in."""

from django.contrib import admin
from django.urls import path

from console import transfer_views, views

app_name = "console"


def staff(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("dashboard/", staff(views.dashboard_view), name="dashboard"),
    path("customers/<int:pk>/", staff(views.customer_view), name="customer"),
    path("bulk-jobs/<int:pk>/", staff(views.bulk_job_view), name="bulk_job"),
    path("export/<str:kind>.csv", staff(transfer_views.export_view), name="export"),
    path("import/", staff(transfer_views.import_view), name="import"),
    path("import/<int:pk>/", staff(transfer_views.import_preview_view), name="import_preview"),
]
