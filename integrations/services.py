"""API keys: create, revoke, authenticate."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.models import RESOURCES, Access, ApiKey
from subscriptions.errors import DomainError
from subscriptions.models import Shop

# Writing `last_used_at` on every request would turn every read into a write; once a minute is plenty.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def parse_permissions(specs: list[str]) -> dict[str, str]:
    """`["subscriptions:rw", "customers:r"]` -> {"subscriptions": "write", "customers": "read"}."""
    levels = {
        "rw": Access.WRITE,
        "w": Access.WRITE,
        "write": Access.WRITE,
        "r": Access.READ,
        "read": Access.READ,
        "none": Access.NONE,
        "-": Access.NONE,
    }
    result: dict[str, str] = {}
    for spec in specs:
        resource, _, level = spec.partition(":")
        resource = resource.strip().lower()
        if resource == "all":
            targets = list(RESOURCES)
        elif resource in RESOURCES:
            targets = [resource]
        else:
            raise DomainError(
                "unknown_resource",
                f"Unknown resource '{resource}'; choose from {', '.join(RESOURCES)}.",
                field="permissions",
            )
        if level.strip().lower() not in levels:
            raise DomainError(
                "unknown_access",
                f"Unknown access '{level}' for {resource}; use r or rw.",
                field="permissions",
            )
        for target in targets:
            result[target] = levels[level.strip().lower()]
    return result


def api_key_expiry(*, shop: Shop, date: dt.date) -> dt.datetime:
    """A key set to expire "on" a date stops working at the start of that day in the shop's timezone."""
    return dt.datetime.combine(date, dt.time.min, tzinfo=shop.tz)


@transaction.atomic
def api_key_create(
    *,
    shop: Shop,
    token_nickname: str,
    permissions: dict[str, str],
    application_nickname: str = "",
    expires_at: dt.datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key; returns it with the full secret, which is shown once and never stored."""
    if not (token_nickname or "").strip():
        raise DomainError("required", "Give the key a token nickname.", field="token_nickname")
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError("date_in_past", "The expiry must be in the future.", field="expires_at")
    raw, prefix, salt, hashed = ApiKey.generate()
    key = ApiKey(
        shop=shop,
        token_nickname=token_nickname.strip(),
        application_nickname=(application_nickname or "").strip(),
        prefix=prefix,
        salt=salt,
        hashed_secret=hashed,
        expires_at=expires_at,
    )
    for resource, level in permissions.items():
        if resource not in RESOURCES or level not in Access.values:
            raise DomainError(
                "unknown_resource", f"Unknown permission {resource}={level}.", field="permissions"
            )
        setattr(key, f"perm_{resource}", level)
    key.save()
    return key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The usable key for a presented secret, or None (wrong, revoked or expired)."""
    parts = ApiKey.split(raw)
    if parts is None:
        return None
    prefix, secret = parts
    key = ApiKey.objects.select_related("shop").filter(prefix=prefix).first()
    if key is None or not key.matches(secret) or not key.is_usable:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


# ---------------------------------------------------------------- partner integrations


def _clean_events(partner_key: str, events) -> list[str]:
    from integrations.partners import partner

    supported = partner(partner_key).events
    if events is None:
        return list(supported)
    chosen = [e for e in events if e in supported]
    unknown = [e for e in events if e not in supported]
    if unknown:
        raise DomainError(
            "unknown_event", f"{partner(partner_key).name} cannot receive {unknown[0]}.", field="events"
        )
    return chosen


@transaction.atomic
def integration_connect(
    *,
    shop: Shop,
    partner_key: str,
    credentials: dict,
    config: dict | None = None,
    events: list[str] | None = None,
):
    """Connect (or reconnect with new credentials). The credentials are checked with a real call
    before anything is saved; held deliveries flow again once the integration is healthy."""
    from integrations.models import Integration
    from integrations.partners import PartnerError, partner
    from webhooks import engine

    try:
        adapter = partner(partner_key)
    except KeyError as exc:
        raise DomainError(
            "unknown_partner", f"Unknown integration '{partner_key}'.", field="partner"
        ) from exc
    optional = adapter.extra.get("optional_credentials", ())
    # A partner signed in with OAuth has a token instead of the keys its form asks for.
    alternative = adapter.extra.get("alternative_credentials", ())
    signed_in = any(str(credentials.get(n) or "").strip() for n in alternative)
    for name in () if signed_in else adapter.credential_fields:
        if name not in optional and not str(credentials.get(name) or "").strip():
            raise DomainError("required", f"{adapter.name} needs its {name.replace('_', ' ')}.", field=name)
    integration = Integration.objects.select_for_update().filter(shop=shop, partner=partner_key).first()
    if integration is None:
        integration = Integration(shop=shop, partner=partner_key)
    integration.credentials = {k: v.strip() if isinstance(v, str) else v for k, v in credentials.items()}
    integration.config = {**(integration.config or {}), **(config or {})}
    integration.events = _clean_events(
        partner_key, events if events is not None else (integration.events or None)
    )
    try:
        adapter.connect(integration)
    except PartnerError as exc:
        # Say what was wrong without echoing any secret back.
        raise DomainError(
            "partner_refused", f"{adapter.name} refused the connection: {exc.message}", field=exc.field
        ) from exc
    integration.state = Integration.State.CONNECTED
    integration.last_error = ""
    integration.connected_at = integration.connected_at or timezone.now()
    integration.save()
    if integration.pk:
        transaction.on_commit(
            lambda: engine.resume_held(destination_kind="integration", destination_id=str(integration.pk))
        )
    if adapter.after_connect is not None:
        transaction.on_commit(lambda: adapter.after_connect(integration))
    return integration


@transaction.atomic
def integration_set_events(*, integration, events: list[str]):
    integration.events = _clean_events(integration.partner, events)
    integration.save(update_fields=["events", "updated_at"])
    return integration


@transaction.atomic
def integration_disconnect(*, integration):
    """Forget the credentials; deliveries already made stay in the log. A partner may undo what
    it set up here (Gorgias: the widget's API key is revoked, so its buttons stop working)."""
    from integrations.models import Integration
    from integrations.partners import partners

    adapter = partners().get(integration.partner)
    hook = adapter.extra.get("on_disconnect") if adapter is not None else None
    if hook:
        import_string(hook)(integration)

    integration.state = Integration.State.DISCONNECTED
    integration.credentials = {}
    integration.save(update_fields=["state", "credentials", "updated_at"])
    return integration
