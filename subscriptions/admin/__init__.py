"""The merchant console (Django admin): every page scoped to the user's shop, every lifecycle
change made by a service. See `tenancy` for the scoping rules."""

from subscriptions.admin import billing, catalogue, customers, discounts, orders, shops, subscription

__all__ = ["billing", "catalogue", "customers", "discounts", "orders", "shops", "subscription"]
