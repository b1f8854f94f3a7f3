from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify"
    verbose_name = "Shopify"

    def ready(self):
        # The store connection is a partner integration (console card, credentials, deliveries).
        from shopify import orders  # noqa: F401  (registers the partner)
