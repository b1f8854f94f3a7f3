from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subscriptions"

    def ready(self):
        # webhooks imports no other app: tell it which event types merchants may subscribe to.
        from subscriptions.events import EVENT_CATALOGUE
        from webhooks.registry import register_event_types

        register_event_types(EVENT_CATALOGUE)
