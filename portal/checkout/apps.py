from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    """The hosted subscribe page and checkout (/subscribe/): part of the portal, with its own tables."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal.checkout"
    label = "checkout"
    verbose_name = "Hosted checkout"
