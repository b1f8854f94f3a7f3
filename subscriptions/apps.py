from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "subscriptions"

    def ready(self):
        # webhooks imports no other app: tell it which event types merchants may subscribe to.
        from subscriptions.events import EVENT_CATALOGUE
        from subscriptions.services.staff import shop_staff_notify
        from subscriptions.webhook_samples import sample_data, shop_domain
        from webhooks.registry import (
            register_event_types,
            register_sample_builder,
            register_shop_labeller,
            register_staff_notifier,
        )

        register_event_types(EVENT_CATALOGUE)
        register_staff_notifier(shop_staff_notify)
        register_sample_builder(sample_data)
        register_shop_labeller(shop_domain)
