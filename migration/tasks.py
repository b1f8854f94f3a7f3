"""Celery entry point of migrations: thin; the run itself is resumable and idempotent."""

from celery import shared_task

from migration import services

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="migration.run", **TASK_OPTIONS)
def migration_run_task(run_id: int) -> str:
    return services.migration_run_execute(run_id=run_id).status
