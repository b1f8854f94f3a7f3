from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "shopify"
    verbose_name = "Shopify"

    def ready(self):
        # The store connection is a partner integration (console card, credentials, deliveries).
        from shopify import orders  # noqa: F401  (registers the partner)
        from shopify.connection import store_connection
        from shopify.customers import import_for_vendor_api
        from subscriptions.external import CustomerImporter, register_customer_importer

        register_customer_importer(
            CustomerImporter(
                connected=lambda shop: store_connection(shop) is not None,
                import_customer=import_for_vendor_api,
            )
        )
