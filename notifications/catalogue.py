"""The notices customers can get by email, and the defaults that ship with the product.

A notice is keyed by its event type, or `<event type>:recipient` when it goes to someone other
than the subscriber (the gift's recipient). Receipts and failed payments are transactional: they
carry no unsubscribe link and go out even to customers who unsubscribed from the rest.

Each default is written once as paragraphs; its plain-text and HTML bodies are built from them,
so the two always say the same thing. Merchants edit the resulting templates in the console.
The English defaults are here; `in_language` gives a notice's defaults in another language
(notifications/locales/), falling back to English for a language that has none.
"""

from dataclasses import dataclass, field, replace
from functools import cache

from notifications.locales import LANGUAGES, TRANSLATIONS

CUSTOMER = "customer"
GIFT_RECIPIENT = "gift_recipient"


@dataclass(frozen=True)
class Notice:
    key: str
    event_type: str
    label: str
    subject: str
    paragraphs: tuple[str, ...]
    optional: bool = True
    recipient: str = CUSTOMER
    show_items: bool = False
    button: tuple[str, str] | None = ("Manage your subscription", "account_page_link")
    greeting: str = "Hi {{ first_name }},"
    after_items: tuple[str, ...] = field(default_factory=tuple)

    @property
    def default_text(self) -> str:
        parts = [self.greeting, *self.paragraphs]
        if self.show_items:
            parts.append(ITEMS_TEXT)
        parts.extend(self.after_items)
        if self.button:
            label, link = self.button
            parts.append(f"{label}: {{{{ {link} }}}}")
        parts.append("{{ shop_name }}")
        return "\n\n".join(parts) + "\n"

    @property
    def default_html(self) -> str:
        parts = [f"<p>{self.greeting}</p>", *(f"<p>{p}</p>" for p in self.paragraphs)]
        if self.show_items:
            parts.append(ITEMS_HTML)
        parts.extend(f"<p>{p}</p>" for p in self.after_items)
        if self.button:
            label, link = self.button
            parts.append(f'<p><a class="button" href="{{{{ {link} }}}}">{label}</a></p>')
        parts.append("<p>{{ shop_name }}</p>")
        return "\n".join(parts) + "\n"


ITEMS_TEXT = (
    "{% for item in items %}- {{ item.quantity }} x {{ item.product }}"
    "{% if item.variant %} ({{ item.variant }}){% endif %}: {{ item.price }} {{ item.currency }}"
    "{% if not forloop.last %}\n{% endif %}{% endfor %}"
)
ITEMS_HTML = (
    '<table class="items">{% for item in items %}<tr><td>{{ item.quantity }} &times; {{ item.product }}'
    "{% if item.variant %} ({{ item.variant }}){% endif %}</td>"
    "<td>{{ item.price }} {{ item.currency }}</td></tr>{% endfor %}</table>"
)
NEXT_ORDER = "Your next order is on {{ next_order_date }}."

_NOTICES = [
    Notice(
        "subscription.created",
        "subscription.created",
        "Subscription created",
        "Welcome to your {{ shop_name }} subscription",
        ("Thanks for subscribing! Your {{ plan }} subscription is active: {{ frequency }}.", NEXT_ORDER),
        show_items=True,
    ),
    Notice(
        "subscription.upcoming_order",
        "subscription.upcoming_order",
        "Upcoming order",
        "Your next {{ shop_name }} order is on {{ next_order_date }}",
        (
            "Your next order is coming up on {{ next_order_date }}"
            "{% if days_until_order %}, in {{ days_until_order }} day{{ days_until_order|pluralize }}{% endif %}.",
        ),
        show_items=True,
        after_items=("Want to skip it, change what is in it or move the date? There is still time.",),
        button=("Manage your order", "account_page_link"),
    ),
    Notice(
        "subscription.skipped",
        "subscription.skipped",
        "Order skipped",
        "Your {{ skipped_date }} order is skipped",
        ("As you asked, we skipped your order of {{ skipped_date }}.", NEXT_ORDER),
    ),
    Notice(
        "subscription.unskipped",
        "subscription.unskipped",
        "Skip undone",
        "Your {{ unskipped_date }} order is back on",
        ("Your order of {{ unskipped_date }} is no longer skipped.", NEXT_ORDER),
        show_items=True,
    ),
    Notice(
        "subscription.paused",
        "subscription.paused",
        "Subscription paused",
        "Your {{ shop_name }} subscription is paused",
        (
            "Your {{ plan }} subscription is paused. "
            "{% if auto_resume_date %}It resumes by itself on {{ auto_resume_date }}."
            "{% else %}No orders go out until you resume it.{% endif %}",
        ),
    ),
    Notice(
        "subscription.activated",
        "subscription.activated",
        "Subscription resumed",
        "Your {{ shop_name }} subscription is active again",
        ("Welcome back! Your {{ plan }} subscription is active again.", NEXT_ORDER),
        show_items=True,
    ),
    Notice(
        "subscription.auto_resume_upcoming",
        "subscription.auto_resume_upcoming",
        "Auto-resume coming up",
        "Your {{ shop_name }} subscription resumes on {{ auto_resume_date }}",
        (
            "Your paused {{ plan }} subscription resumes by itself on {{ auto_resume_date }}, "
            "and orders start again from then.",
            "If you would rather keep it paused, you can change that in your account.",
        ),
    ),
    Notice(
        "subscription.canceled",
        "subscription.canceled",
        "Subscription cancelled",
        "Your {{ shop_name }} subscription is cancelled",
        (
            "Your {{ plan }} subscription is cancelled; no more orders will be placed.",
            "We are sorry to see you go. You can start again any time from your account.",
        ),
        button=("Your account", "account_page_link"),
    ),
    Notice(
        "subscription.payment_method_updated",
        "subscription.payment_method_updated",
        "Payment method updated",
        "Your payment method is updated",
        (
            "Your subscription is now charged to your {{ payment_method.brand|default:'card' }}"
            "{% if payment_method.last4 %} ending in {{ payment_method.last4 }}{% endif %}.",
            "If you did not make this change, please contact us.",
        ),
    ),
    Notice(
        "subscription.transaction_failed",
        "subscription.transaction_failed",
        "Payment failed",
        "Your {{ shop_name }} payment did not go through",
        (
            "We could not charge your card for your subscription order"
            "{% if amount %} of {{ amount }} {{ currency }}{% endif %}."
            "{% if failure_reason %} Your bank said: {{ failure_reason }}{% endif %}",
            "{% if retry_date %}We will try again on {{ retry_date }}. {% endif %}"
            "Please update your payment method so your order can go out.",
        ),
        optional=False,
        button=("Update your payment method", "update_payment_link"),
    ),
    Notice(
        "subscription.transaction_succeeded",
        "subscription.transaction_succeeded",
        "Payment receipt",
        "Receipt for your {{ shop_name }} order",
        (
            "Thank you! We charged {{ amount }} {{ currency }} for your subscription order{% if order_date %} of {{ order_date }}{% endif %}.",
        ),
        optional=False,
        show_items=True,
        after_items=(NEXT_ORDER,),
    ),
    Notice(
        "subscription.send_now",
        "subscription.send_now",
        "Order sent now",
        "Your {{ shop_name }} order is on its way early",
        ("As you asked, your next order goes out now instead of waiting for its date.",),
        show_items=True,
    ),
    Notice(
        "subscription.gifted",
        "subscription.gifted",
        "Order gifted",
        "Your {{ gift.billing_date }} order is a gift",
        (
            "Your order of {{ gift.billing_date }} goes to {{ gift.recipient_first_name }} "
            "{{ gift.recipient_last_name }} as a gift. We will let them know.",
            NEXT_ORDER,
        ),
    ),
    Notice(
        "subscription.gifted:recipient",
        "subscription.gifted",
        "Order gifted (to the recipient)",
        "{{ customer.first_name }} sent you a gift from {{ shop_name }}",
        (
            "{{ customer.first_name }} {{ customer.last_name }} is sending you an order from "
            "{{ shop_name }}, on its way after {{ gift.billing_date }}.",
            "{% if gift.message %}Their message: \u201c{{ gift.message }}\u201d{% endif %}",
        ),
        recipient=GIFT_RECIPIENT,
        greeting="Hi {{ gift.recipient_first_name }},",
        show_items=True,
        button=None,
    ),
    Notice(
        "subscription.next_order_date_changed",
        "subscription.next_order_date_changed",
        "Next order date changed",
        "Your next {{ shop_name }} order is now on {{ next_order_date }}",
        (
            "Your next order moved to {{ next_order_date }}"
            "{% if previous_next_order_date %} (it was {{ previous_next_order_date }}){% endif %}.",
        ),
    ),
    Notice(
        "subscription.product_unavailable",
        "subscription.product_unavailable",
        "Product unavailable",
        "An item of your {{ shop_name }} subscription is unavailable",
        (
            "{% for item in unavailable_items %}{{ item.product }}{% if item.variant %} ({{ item.variant }}){% endif %}"
            "{% if not forloop.last %}, {% endif %}{% endfor %} is no longer available, so it will not be in "
            "your next order.",
            "You can swap it for something else in your account.",
        ),
    ),
    Notice(
        "loyalty.points_earned",
        "loyalty.points_earned",
        "Loyalty points earned",
        "You earned {{ points }} points at {{ shop_name }}",
        (
            "You earned {{ points }} points{% if reason %} ({{ reason }}){% endif %}. Your balance is now {{ balance }} points.",
        ),
        button=("See your rewards", "account_page_link"),
    ),
    Notice(
        "loyalty.points_redeemed",
        "loyalty.points_redeemed",
        "Loyalty points redeemed",
        "Your {{ shop_name }} reward is ready",
        (
            "You turned {{ points }} points into {% if reward.name %}{{ reward.name }}{% else %}a reward{% endif %}."
            "{% if discount_code %} Your code is {{ discount_code }}.{% endif %}",
            "You have {{ balance }} points left.",
        ),
        button=("See your rewards", "account_page_link"),
    ),
    Notice(
        "loyalty.referral_succeeded",
        "loyalty.referral_succeeded",
        "Referral succeeded",
        "Your referral earned you {{ points }} points",
        (
            "Someone used your referral code: thank you for spreading the word!",
            "You earned {{ points }} points; your balance is now {{ balance }} points.",
        ),
        button=("See your rewards", "account_page_link"),
    ),
]

NOTICES: dict[str, Notice] = {notice.key: notice for notice in _NOTICES}


def notices_for_event(event_type: str) -> list[Notice]:
    return [notice for notice in _NOTICES if notice.event_type == event_type]


EVENT_TYPES = frozenset(notice.event_type for notice in _NOTICES)


@cache
def in_language(key: str, language: str | None) -> Notice:
    """The notice `key` with its defaults (subject, greeting, paragraphs, button) in `language`."""
    notice = NOTICES[key]
    module = TRANSLATIONS.get(language or "")
    if module is None:
        return notice
    own = module.NOTICES[key]
    button = (own.get("button", module.MANAGE), notice.button[1]) if notice.button else None
    return replace(
        notice,
        subject=own["subject"],
        greeting=own.get("greeting", module.GREETING),
        paragraphs=tuple(own["paragraphs"]),
        after_items=tuple(own.get("after_items", ())),
        button=button,
    )


@cache
def default_versions(key: str) -> frozenset[tuple[str, str, str]]:
    """(subject, text, html) of the notice's defaults in every language: a template equal to one
    of them has not been customised by the merchant."""
    return frozenset(
        (notice.subject, notice.default_text, notice.default_html)
        for notice in (in_language(key, code) for code in LANGUAGES)
    )
