"""`Idempotency-Key` for the vendor API: a retried POST/PUT replays the first answer.

A middleware (not a view mixin) so every vendor view gets it without the domain apps knowing
about API keys. Records live 24 hours, per API key.
"""

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone

from integrations.api.auth import raw_key_from
from integrations.models import IdempotencyRecord
from integrations.services import api_key_authenticate

TTL = dt.timedelta(hours=24)
METHODS = {"POST", "PUT", "PATCH"}


def _problem(status: int, title: str, detail: str, code: str, field: str | None = None) -> HttpResponse:
    body = {
        "type": f"https://docs.subscriptions.example/errors/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"field": field, "message": detail, "code": code}] if field else [],
    }
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


class VendorBodyLimitMiddleware:
    """413 for a vendor API body over `VENDOR_API_MAX_BODY_BYTES`, before anything reads it (the
    idempotency fingerprint, the parsers), for every vendor view whatever its base class."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/vendor/"):
            length = request.META.get("CONTENT_LENGTH") or "0"
            limit = settings.VENDOR_API_MAX_BODY_BYTES
            if length.isdigit() and int(length) > limit:
                return _problem(
                    413,
                    "Payload too large",
                    f"The request body is larger than {limit} bytes.",
                    "payload_too_large",
                )
        return self.get_response(request)


GUARDED_PREFIXES = ("/vendor/", "/hooks/", "/account/", "/subscribe/", "/notifications/")
NUL_MARKS = (b"\x00", b"%00", b"\\u0000")


class NulCharacterGuardMiddleware:
    """400 for a request to a public surface whose query or (non-multipart) body carries a NUL
    character, raw, %-encoded or JSON-escaped: no text column stores it (PostgreSQL refuses it
    outright), so it can only be bad input — refused before any lookup or change, naming the field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(GUARDED_PREFIXES):
            field = self._field_with_nul(request)
            if field is not None:
                detail = f"{field}: text may not contain NUL (\\u0000) characters."
                if request.path.startswith("/vendor/"):
                    return _problem(400, "Invalid request", detail, "nul_character", field=field)
                return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @classmethod
    def _field_with_nul(cls, request) -> str | None:
        """The name of the first field carrying a NUL ("path", "body" when it cannot tell), or None."""
        if "\x00" in request.path:
            return "path"
        query = request.META.get("QUERY_STRING", "").lower()
        if "%00" in query or "\x00" in query:
            return next(
                (k for k, vs in request.GET.lists() if "\x00" in k or any("\x00" in v for v in vs)), "query"
            )
        if request.method in ("GET", "HEAD", "OPTIONS") or request.content_type.startswith("multipart/"):
            return None
        body = request.body
        if not any(mark in body.lower() for mark in NUL_MARKS):
            return None
        if request.content_type == "application/x-www-form-urlencoded":
            return next(
                (k for k, vs in request.POST.lists() if "\x00" in k or any("\x00" in v for v in vs)), "body"
            )
        try:
            return cls._json_path(json.loads(body)) or "body"
        except ValueError:
            return "body"

    @classmethod
    def _json_path(cls, value, path: str = "") -> str | None:
        if isinstance(value, str):
            return path if "\x00" in value else None
        items = (
            value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        )
        for key, item in items:
            name = f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else str(key))
            if isinstance(key, str) and "\x00" in key:
                return name
            found = cls._json_path(item, name)
            if found:
                return found
        return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        idem_key = request.headers.get("Idempotency-Key")
        if not idem_key or request.method not in METHODS or not request.path.startswith("/vendor/"):
            return self.get_response(request)
        if len(idem_key) > 255:
            return _problem(
                400,
                "Invalid request",
                "The Idempotency-Key header is longer than 255 characters.",
                "invalid_idempotency_key",
            )
        raw = raw_key_from(request)
        api_key = api_key_authenticate(raw) if raw else None
        if api_key is None:
            return self.get_response(request)  # the view answers 401
        body = request.body
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.get_full_path().encode(), body])
        ).hexdigest()
        IdempotencyRecord.objects.filter(
            api_key=api_key, key=idem_key, created_at__lt=timezone.now() - TTL
        ).delete()
        # One transaction for the record, the view's change and the recorded answer: a process killed
        # anywhere in between (web server SIGKILLed, connection lost) leaves neither the change nor a
        # key stuck "in progress", so the client's retry runs for real; a concurrent duplicate waits
        # on the key's row lock and then replays the committed answer.
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        api_key=api_key, key=idem_key, request_fingerprint=fingerprint
                    )
            except IntegrityError:
                return self._existing(api_key, idem_key, fingerprint)
            response = self.get_response(request)
            if response.status_code >= 500 or response.status_code in (401, 429):
                # Not an answer worth replaying, and a server error must not leave half a change:
                # undo everything, key included, so the retry runs for real.
                transaction.set_rollback(True)
                return response
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            record.status_code = response.status_code
            record.response_body = response.content
            record.content_type = response.get("Content-Type", "")
            record.save(update_fields=["status_code", "response_body", "content_type"])
            return response

    @staticmethod
    def _existing(api_key, idem_key: str, fingerprint: str) -> HttpResponse:
        existing = IdempotencyRecord.objects.get(api_key=api_key, key=idem_key)
        if existing.request_fingerprint != fingerprint:
            return _problem(
                422,
                "Unprocessable request",
                "This Idempotency-Key was already used with a different request.",
                "idempotency_key_reused",
            )
        if existing.status_code is None:
            return _problem(
                409,
                "Conflict",
                "A request with this Idempotency-Key is still being processed.",
                "idempotency_in_progress",
            )
        replay = HttpResponse(
            bytes(existing.response_body or b""),
            status=existing.status_code,
            content_type=existing.content_type or "application/json",
        )
        replay["Idempotent-Replayed"] = "true"
        return replay


class GorgiasTicketNoteMiddleware:
    """A vendor API change made by the Gorgias key with `?ticketId=<id>` (the predefined buttons
    pass `{{ticket.id}}`) is written to that ticket as an internal note. A middleware, like the
    idempotency one, so the domain views need not know about Gorgias: it notes the activity rows
    the request wrote for the Gorgias actor."""

    PARAMS = ("ticketId", "ticket_id")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in METHODS or not request.path.startswith("/vendor/"):
            return self.get_response(request)
        ticket = next((request.GET[p] for p in self.PARAMS if request.GET.get(p)), None)
        if ticket is None:
            return self.get_response(request)
        raw = raw_key_from(request)
        api_key = api_key_authenticate(raw) if raw else None
        if api_key is None or not api_key.integration_name:
            return self.get_response(request)  # other callers' ticket ids mean nothing here
        if not ticket.isdigit():
            return _problem(
                400, "Invalid request", "ticketId: must be a Gorgias ticket id (digits).", "validation_error"
            )
        from subscriptions.models import ActivityLog

        before = (
            ActivityLog.objects.filter(shop_id=api_key.shop_id)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
            or 0
        )
        response = self.get_response(request)
        if 200 <= response.status_code < 300:
            rows = ActivityLog.objects.filter(
                shop_id=api_key.shop_id,
                pk__gt=before,
                actor_type=ActivityLog.ActorType.INTEGRATION,
                actor_name=api_key.integration_name,
            )
            match = getattr(request, "resolver_match", None)
            subscription_id = match.kwargs.get("purchase_state_id") if match else None
            if subscription_id is not None and str(subscription_id).isdigit():
                # Only this subscription's rows: another agent's click at the same moment has its own note.
                rows = rows.filter(subscription_id=int(subscription_id))
            log_ids = list(rows.values_list("pk", flat=True))
            if log_ids and api_key.integration_name == "gorgias":
                from integrations.gorgias import ticket_note_enqueue

                ticket_note_enqueue(shop_id=api_key.shop_id, ticket_id=int(ticket), log_ids=log_ids)
        return response
