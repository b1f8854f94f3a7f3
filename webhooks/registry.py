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


# -- sample payloads (console "Send test event", "Sample payload", the OpenAPI examples) -------

_SAMPLE_BUILDER = None
_SHOP_LABELLER = None


def register_sample_builder(builder) -> None:
    """`builder(event_type, shop_id) -> dict`: a believable `data` for the event type, built
    without writing anything (shop_id may be None: documentation examples)."""
    global _SAMPLE_BUILDER
    _SAMPLE_BUILDER = builder


def register_shop_labeller(labeller) -> None:
    """`labeller(shop_id) -> str`: what the envelope's `shop` says (the shop's domain)."""
    global _SHOP_LABELLER
    _SHOP_LABELLER = labeller


def sample_data(event_type: str, shop_id: int | None = None) -> dict:
    if _SAMPLE_BUILDER is None:
        return {}
    return _SAMPLE_BUILDER(event_type, shop_id)


def shop_label(shop_id: int | None) -> str:
    if _SHOP_LABELLER is not None and shop_id is not None:
        return _SHOP_LABELLER(shop_id)
    return "your-shop.myshopify.com" if shop_id is None else str(shop_id)


def sample_envelope(event_type: str, shop_id: int | None = None) -> dict:
    """The whole body a receiver gets for `event_type`, with sample data."""
    return {
        "id": "9f0c1e52-7d3a-4b8e-9a47-3c2e6f1d8b20",
        "type": event_type,
        "version": 1,
        "occurred_at": "2025-03-14T09:30:00+00:00",
        "shop": shop_label(shop_id),
        "actor": "customer",
        "data": sample_data(event_type, shop_id),
    }


# -- facts about a customer that other apps own (partner profiles: loyalty balance, referral code) --

_CUSTOMER_FACTS: list = []


def register_customer_facts(provider) -> None:
    """`provider(shop_id, customer_id) -> dict` adds facts about a customer that its app owns, e.g.
    the loyalty app: `{"loyalty_points_balance": 350, "referral_code": "JANE-5K2Q"}`."""
    if provider not in _CUSTOMER_FACTS:
        _CUSTOMER_FACTS.append(provider)


def customer_facts(shop_id: int, customer_id) -> dict:
    facts: dict = {}
    for provider in _CUSTOMER_FACTS:
        facts.update(provider(shop_id, customer_id) or {})
    return facts
