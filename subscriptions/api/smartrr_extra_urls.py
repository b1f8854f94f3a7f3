"""Vendor API routes (mounted under /vendor/)."""

urlpatterns = []
