from django.apps import AppConfig


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = "Customer portal"

    def ready(self) -> None:
        # Notifications link to the portal with a signed deep link; subscriptions never imports us.
        from portal.links import signed_subscription_link
        from subscriptions.events import register_link_builder

        register_link_builder(signed_subscription_link)
