"""Vendor API routes for webhook endpoints (mounted under /vendor/)."""

urlpatterns = []
