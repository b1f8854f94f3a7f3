from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from django.contrib.admin.models import LogEntry
        from django.db.models.signals import post_save

        from console.activity import record_admin_history
        from console.roles import roles_install

        # The role groups exist wherever the tables do (tests build theirs without migrations).
        post_migrate.connect(roles_install, sender=self, dispatch_uid="console.roles_install")
        # Every staff action in the activity log, also on pages of apps that cannot call our services.
        post_save.connect(record_admin_history, sender=LogEntry, dispatch_uid="console.admin_history")
