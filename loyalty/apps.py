from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "loyalty"

    def ready(self) -> None:
        # Earn points from subscription events, and tell partner profiles the balance and code.
        from loyalty.consumer import register

        register()
