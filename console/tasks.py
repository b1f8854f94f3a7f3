"""Celery entry points of the console: thin, take ids, call a service."""

from celery import shared_task

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(name="console.run_bulk_job", **TASK_OPTIONS)
def run_bulk_job(job_id: int) -> None:
    from console.bulk import bulk_job_run

    bulk_job_run(job_id=job_id)
