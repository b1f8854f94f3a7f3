"""Every periodic task of the platform, declared here and nowhere else.

`manage.py setup_periodic_tasks` installs this list into django-celery-beat (the database
scheduler beat reads), idempotently: run it on every deploy. Operators may pause a task in the
console; re-running the command keeps it paused. Add a task here, never in the console.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Crontab:
    """Celery crontab fields, in CELERY_TIMEZONE (UTC)."""

    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"


@dataclass(frozen=True)
class PeriodicTaskSpec:
    name: str  # unique; how the task is found again on the next run (rename = new task)
    task: str  # registered Celery task name
    description: str
    every_seconds: int | None = None
    crontab: Crontab | None = None

    def __post_init__(self):
        if (self.every_seconds is None) == (self.crontab is None):
            raise ValueError(f"{self.name}: give exactly one of every_seconds or crontab")


SCHEDULE: list[PeriodicTaskSpec] = [
    PeriodicTaskSpec(
        name="subscriptions.billing_tick",
        task="subscriptions.billing_tick",
        every_seconds=300,
        description="Bill every shop whose local billing time has passed today and has not run today "
        "(missed ticks catch up on the next one).",
    ),
    PeriodicTaskSpec(
        name="subscriptions.notices_tick",
        task="subscriptions.notices_tick",
        every_seconds=900,
        description="Send due upcoming-order (N days) and auto-resume (7 days) notices once each, and "
        "resume paused subscriptions whose date has come.",
    ),
    PeriodicTaskSpec(
        name="loyalty.expire_points",
        task="loyalty.expire_points",
        crontab=Crontab(minute="41", hour="4"),
        description="Expire loyalty points older than each shop's expiry period.",
    ),
    PeriodicTaskSpec(
        name="webhooks.sweep",
        task="webhooks.sweep",
        every_seconds=60,
        description="Relay events the after-commit relay missed and hand out every due delivery "
        "(retries, deliveries of killed workers).",
    ),
    PeriodicTaskSpec(
        name="webhooks.prune",
        task="webhooks.prune",
        crontab=Crontab(minute="17", hour="3"),
        description="Delete delivered webhooks and their events older than WEBHOOKS_RETENTION_DAYS.",
    ),
]
