"""Shopify's webhooks (catalogue, stock and privacy topics), mounted at /hooks/shopify/."""

from django.urls import path

from shopify import webhooks

app_name = "shopify"

urlpatterns = [
    path("webhooks", webhooks.receive, name="webhooks"),
]
