from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # Registers the OpenAPI description of API key authentication with drf-spectacular.
        from integrations.api import schema  # noqa: F401
