from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # Registers the OpenAPI description of API key authentication with drf-spectacular.
        # Partner integrations are destinations of the delivery engine; each adapter registers itself.
        from integrations import partners  # noqa: F401
        from integrations.adapters import load_all
        from integrations.api import schema  # noqa: F401

        load_all()
