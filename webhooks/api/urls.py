"""Vendor API routes for webhook endpoints (mounted under /vendor/)."""

from django.urls import path

from webhooks.api import views

urlpatterns = [
    path("webhook", views.WebhookListView.as_view(), name="vendor-webhook-list"),
    path("webhook/<int:webhook_id>", views.WebhookDetailView.as_view(), name="vendor-webhook-detail"),
    path(
        "webhook/<int:webhook_id>/rotate-secret",
        views.WebhookRotateSecretView.as_view(),
        name="vendor-webhook-rotate-secret",
    ),
]
