"""Celery entry points of the integrations app: thin, take ids, call a service."""

from celery import shared_task

from integrations import gorgias

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}
# Gorgias busy or down: try again with growing pauses (Retry-After when it gives one) for ~1 day.
NOTE_MAX_RETRIES = 12


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 3 * 3600)


@shared_task(name="integrations.gorgias_ticket_note", bind=True, max_retries=NOTE_MAX_RETRIES, **TASK_OPTIONS)
def gorgias_ticket_note_task(self, shop_id: int, ticket_id: int, log_ids: list[int]) -> str:
    try:
        return gorgias.ticket_note_post(shop_id=shop_id, ticket_id=ticket_id, log_ids=log_ids)
    except gorgias.wire.GorgiasUnavailable as exc:
        countdown = int(exc.retry_in) if exc.retry_in else _backoff(self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
