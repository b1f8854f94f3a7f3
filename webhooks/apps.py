from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks and events"

    def ready(self):
        # Merchant webhook endpoints are the engine's first destination; integrations add theirs.
        from webhooks import endpoints  # noqa: F401
