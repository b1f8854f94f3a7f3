"""Periodic tasks: declared once in config/schedule.py, installed idempotently into celery-beat."""

import io

import pytest
from django.core.management import call_command
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from config.schedule import SCHEDULE

pytestmark = pytest.mark.django_db


def _rows():
    return (
        sorted(
            PeriodicTask.objects.values_list(
                "pk", "name", "task", "enabled", "interval_id", "crontab_id", "description"
            )
        ),
        sorted(IntervalSchedule.objects.values_list("pk", "every", "period")),
        sorted(CrontabSchedule.objects.values_list("pk", "minute", "hour")),
    )


def test_running_twice_gives_the_same_rows():
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    first = _rows()
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    assert _rows() == first
    assert PeriodicTask.objects.count() == len(SCHEDULE)


def test_sweep_every_minute_and_prune_daily():
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    sweep = PeriodicTask.objects.get(task="webhooks.sweep")
    assert (sweep.interval.every, sweep.interval.period, sweep.crontab) == (60, "seconds", None)
    assert sweep.enabled
    prune = PeriodicTask.objects.get(task="webhooks.prune")
    assert prune.interval is None
    assert (prune.crontab.minute, prune.crontab.hour, prune.crontab.day_of_week) == ("17", "3", "*")


def test_a_task_paused_in_the_console_stays_paused_and_its_schedule_is_restored():
    call_command("setup_periodic_tasks", stdout=io.StringIO())
    sweep = PeriodicTask.objects.get(name="webhooks.sweep")
    sweep.enabled = False
    sweep.interval = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    sweep.save()

    call_command("setup_periodic_tasks", stdout=io.StringIO())
    sweep.refresh_from_db()
    assert sweep.enabled is False
    assert (sweep.interval.every, sweep.interval.period) == (60, "seconds")
    assert PeriodicTask.objects.filter(name="webhooks.sweep").count() == 1


def test_a_task_of_ours_no_longer_declared_is_removed_and_others_are_kept():
    every_minute = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.MINUTES)
    for name in ("webhooks.retired_task", "celery.backend_cleanup", "merchant nightly export"):
        PeriodicTask.objects.create(name=name, task=name, interval=every_minute)
    out = io.StringIO()
    call_command("setup_periodic_tasks", stdout=out)
    assert "webhooks.retired_task: removed" in out.getvalue()
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    assert "webhooks.retired_task" not in names
    assert {"celery.backend_cleanup", "merchant nightly export"} <= names
    assert {spec.name for spec in SCHEDULE} <= names


def test_every_declared_task_is_a_registered_celery_task():
    from config.celery import app

    app.loader.import_default_modules()
    for spec in SCHEDULE:
        assert spec.task in app.tasks, spec.task
