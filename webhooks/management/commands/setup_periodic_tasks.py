"""Install the periodic tasks declared in config/schedule.py into django-celery-beat.

Idempotent: each task is found by name and created or brought up to date (task, schedule,
description); nothing is duplicated, and the `enabled` flag an operator set in the console is
kept. A task of ours no longer declared (named `<one of our apps>.<name>`) is removed; tasks added
by others (celery's own, an operator's) are left alone. Run on every deploy (`make run` does it too).
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.schedule import SCHEDULE, PeriodicTaskSpec


def _schedule_fields(spec: PeriodicTaskSpec) -> dict:
    if spec.every_seconds is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=spec.every_seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval, "crontab": None, "solar": None, "clocked": None}
    cron = spec.crontab
    crontab = (
        CrontabSchedule.objects.filter(
            minute=cron.minute,
            hour=cron.hour,
            day_of_week=cron.day_of_week,
            day_of_month=cron.day_of_month,
            month_of_year=cron.month_of_year,
            timezone=settings.CELERY_TIMEZONE,
        )
        .order_by("pk")
        .first()
    )
    if crontab is None:
        crontab = CrontabSchedule.objects.create(
            minute=cron.minute,
            hour=cron.hour,
            day_of_week=cron.day_of_week,
            day_of_month=cron.day_of_month,
            month_of_year=cron.month_of_year,
            timezone=settings.CELERY_TIMEZONE,
        )
    return {"interval": None, "crontab": crontab, "solar": None, "clocked": None}


def install(spec: PeriodicTaskSpec) -> str:
    """Create or update one task; returns 'created', 'updated' or 'unchanged'."""
    wanted = {"task": spec.task, "description": spec.description, **_schedule_fields(spec)}
    task = PeriodicTask.objects.select_for_update().filter(name=spec.name).first()
    if task is None:
        PeriodicTask.objects.create(name=spec.name, enabled=True, **wanted)
        return "created"
    changed = [field for field, value in wanted.items() if getattr(task, field) != value]
    if not changed:
        return "unchanged"
    for field in changed:
        setattr(task, field, wanted[field])
    task.save()  # `enabled` untouched: a task paused in the console stays paused
    return "updated"


def _ours(name: str) -> bool:
    """Declared by this project: named after one of the project's own apps."""
    base = str(settings.BASE_DIR)
    local = {config.label for config in apps.get_app_configs() if config.path.startswith(base)}
    return name.split(".", 1)[0] in local | {"config"}


def remove_undeclared() -> list[str]:
    declared = {spec.name for spec in SCHEDULE}
    stale = [name for name in PeriodicTask.objects.values_list("name", flat=True) if name not in declared]
    stale = [name for name in stale if _ours(name)]
    PeriodicTask.objects.filter(name__in=stale).delete()
    return stale


class Command(BaseCommand):
    help = "Create or update the periodic tasks declared in config/schedule.py (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for spec in SCHEDULE:
                outcome = install(spec)
                self.stdout.write(f"{spec.name}: {outcome}")
            for name in remove_undeclared():
                self.stdout.write(f"{name}: removed (no longer declared)")
