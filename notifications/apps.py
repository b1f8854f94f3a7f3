from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Customer notifications"

    def ready(self) -> None:
        # Native emails are one more destination of the delivery engine; Twilio SMS is one more
        # partner of the integrations registry (connect card, encrypted credentials, quiet hours).
        from notifications import destination, twilio  # noqa: F401
        from notifications.services import demo_shop_setup
        from subscriptions.signals import demo_shop_seeded

        demo_shop_seeded.connect(demo_shop_setup, dispatch_uid="notifications.demo_shop_setup")
