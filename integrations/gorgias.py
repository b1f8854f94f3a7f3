"""Gorgias set-up and ticket notes (the wire is `integrations.adapters.gorgias`).

"Connect and create widget" makes, in this order: a dedicated API key (Subscriptions read and
write, Customers read; application "Gorgias", so what its buttons do is recorded as
`integration:gorgias`), the HTTP integration that pulls a ticket's subscriber from our helpdesk
lookup with that key, and the widget with the predefined buttons. Their ids are kept in the
integration's config so that running it again updates them (or replaces what was deleted in
Gorgias) instead of adding a second widget; the previous key is revoked once the new one is in
place.

When a button passes the ticket id (`?ticketId=`), the change is written to that ticket as an
internal note, from a Celery task that retries while Gorgias is busy or down.
"""

import html
import logging

from django.db import transaction
from django.utils import timezone

from integrations.adapters import gorgias as wire
from integrations.models import Access, ApiKey, Integration
from integrations.partners import PartnerError
from integrations.services import api_key_create, api_key_revoke
from subscriptions.models import ActivityLog

log = logging.getLogger(__name__)

APPLICATION = "Gorgias"
KEY_PERMISSIONS = {"subscriptions": Access.WRITE, "customers": Access.READ}


def _revoke(key_id) -> None:
    old = ApiKey.objects.filter(pk=key_id).first() if key_id else None
    if old is not None:
        api_key_revoke(api_key=old)


def gorgias_widget_setup(integration: Integration) -> str:
    """Create or replace the API key, HTTP integration and widget of a connected Gorgias
    integration. Raises PartnerError (nothing of ours changes then: the new key is revoked)."""
    if integration.state == Integration.State.DISCONNECTED:
        raise PartnerError("connect Gorgias first")
    config = dict(integration.config or {})
    key, raw = api_key_create(
        shop=integration.shop,
        token_nickname="Gorgias widget",
        application_nickname=APPLICATION,
        permissions=KEY_PERMISSIONS,
    )
    try:
        body = wire.http_integration_body(lookup_url=wire.lookup_url(), access_token=raw)
        found = None
        if config.get("gorgias_integration_id"):
            found = wire.http_integration_update(integration, config["gorgias_integration_id"], body)
        if found is None:
            found = wire.http_integration_create(integration, body)
        gorgias_integration_id = int(found["id"])
        widget = wire.widget_body(integration_id=gorgias_integration_id, access_token=raw)
        made = None
        same_integration = config.get("gorgias_integration_id") == gorgias_integration_id
        if config.get("widget_id") and same_integration:
            made = wire.widget_update(integration, config["widget_id"], widget)
        elif config.get("widget_id"):
            # Its integration is gone: the old widget shows nothing; remove it rather than leave it.
            wire.widget_delete(integration, config["widget_id"])
        if made is None:
            made = wire.widget_create(integration, widget)
        widget_id = int(made["id"])
    except (PartnerError, KeyError, TypeError, ValueError) as exc:
        api_key_revoke(api_key=key)
        if isinstance(exc, PartnerError):
            raise
        raise PartnerError("Gorgias answered without the id of what it created") from exc
    with transaction.atomic():
        fresh = Integration.objects.select_for_update().get(pk=integration.pk)
        previous_key = (fresh.config or {}).get("api_key_id")
        fresh.config = {
            **(fresh.config or {}),
            "gorgias_integration_id": gorgias_integration_id,
            "widget_id": widget_id,
            "api_key_id": key.pk,
        }
        fresh.save(update_fields=["config", "updated_at"])
        if previous_key and previous_key != key.pk:
            _revoke(previous_key)
    integration.config = fresh.config
    return (
        f"Gorgias now has the “{wire.NAME}” HTTP integration (id {gorgias_integration_id}) and its "
        f"widget (id {widget_id}) with the skip, pause, next billing date, unpause and cancel buttons."
    )


def gorgias_disconnected(integration: Integration) -> None:
    """Disconnecting revokes the widget's key: its buttons and lookup stop working at once (the
    widget itself stays in Gorgias until removed there, showing nothing)."""
    _revoke((integration.config or {}).get("api_key_id"))
    integration.config = {k: v for k, v in (integration.config or {}).items() if k != "api_key_id"}
    Integration.objects.filter(pk=integration.pk).update(config=integration.config)


# ---------------------------------------------------------------- ticket notes


def ticket_note_text(logs: list[ActivityLog]) -> tuple[str, str]:
    """(text, html) of the internal note: one line per change, oldest first."""
    lines = []
    for entry in sorted(logs, key=lambda e: (e.created_at, e.pk)):
        subject = f"subscription #{entry.subscription_id}" if entry.subscription_id else "customer"
        lines.append(f"{entry.description} ({subject})")
    text = "Changed from the Gorgias widget:\n" + "\n".join(f"- {line}" for line in lines)
    markup = (
        "<p>Changed from the Gorgias widget:</p><ul>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        + "</ul>"
    )
    return text, markup


def ticket_note_enqueue(*, shop_id: int, ticket_id: int, log_ids: list[int]) -> None:
    """Queue the note after the change is committed (the task reads the activity rows)."""
    from integrations.tasks import gorgias_ticket_note_task

    # robust: a note that cannot be queued must never undo or fail the change the agent made.
    transaction.on_commit(lambda: gorgias_ticket_note_task.delay(shop_id, ticket_id, log_ids), robust=True)


def ticket_note_post(*, shop_id: int, ticket_id: int, log_ids: list[int]) -> str:
    """Post the note. Raises GorgiasUnavailable when worth retrying; other refusals are final
    (401/403 also mark the integration as needing attention, as for every partner)."""
    integration = Integration.objects.filter(shop_id=shop_id, partner=wire.KEY).first()
    if integration is None or integration.state != Integration.State.CONNECTED:
        return "skipped: Gorgias is not connected"
    logs = list(ActivityLog.objects.filter(shop_id=shop_id, pk__in=log_ids))
    if not logs:
        return "skipped: nothing changed"
    text, markup = ticket_note_text(logs)
    body = wire.ticket_note_body(text=text, html=markup, sender_email=integration.config.get("email", ""))
    try:
        wire.ticket_note_create(integration, ticket_id, body)
    except wire.GorgiasUnavailable:
        raise
    except PartnerError as exc:
        if exc.status in (401, 403):
            Integration.objects.filter(pk=integration.pk, state=Integration.State.CONNECTED).update(
                state=Integration.State.NEEDS_ATTENTION,
                last_error=exc.message[:500],
                last_error_at=timezone.now(),
            )
        else:
            Integration.objects.filter(pk=integration.pk).update(
                last_error=exc.message[:500], last_error_at=timezone.now()
            )
        log.warning("Gorgias refused the note on ticket %s: %s", ticket_id, exc.message)
        return f"refused: {exc.message}"
    return "posted"
