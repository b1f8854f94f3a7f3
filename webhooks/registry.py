"""Event types merchants may subscribe webhook endpoints to.

`webhooks` imports no other app, so the apps that own events register their catalogue here at
start-up (`AppConfig.ready`): `register_event_types({"subscription.skipped": ("Next order skipped",
"Subscription skip"), ...})` — type -> (meaning, seed webhook name or "").
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    type: str
    meaning: str
    seed_name: str = ""


_EVENT_TYPES: dict[str, EventType] = {}


def register_event_types(catalogue: dict[str, tuple[str, str] | str]) -> None:
    """Add (or replace) event types; values are `(meaning, seed name)` or just a meaning."""
    for type_, value in catalogue.items():
        meaning, seed_name = (value, "") if isinstance(value, str) else (value[0], value[1])
        _EVENT_TYPES[type_] = EventType(type_, meaning, seed_name or "")


def event_types() -> dict[str, EventType]:
    return dict(_EVENT_TYPES)


def resolve_event_type(name: str) -> str | None:
    """Our event type for `name`, given as the type itself or as its seed (Smartrr) webhook name."""
    name = (name or "").strip()
    if name in _EVENT_TYPES:
        return name
    folded = name.casefold()
    for event in _EVENT_TYPES.values():
        if event.seed_name and event.seed_name.casefold() == folded:
            return event.type
    return None


# -- telling a shop's staff something (the app that knows staff registers how) ------------------

_STAFF_NOTIFIER = None


def register_staff_notifier(notifier) -> None:
    """`notifier(shop_id, subject, message)` emails the shop's staff."""
    global _STAFF_NOTIFIER
    _STAFF_NOTIFIER = notifier


def notify_shop_staff(shop_id: int, *, subject: str, message: str) -> bool:
    if _STAFF_NOTIFIER is None:
        return False
    _STAFF_NOTIFIER(shop_id, subject, message)
    return True
