from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConsoleConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "console"
    verbose_name = "Console"

    def ready(self) -> None:
        from console.roles import roles_install

        # The role groups exist wherever the tables do (tests build theirs without migrations).
        post_migrate.connect(roles_install, sender=self, dispatch_uid="console.roles_install")
