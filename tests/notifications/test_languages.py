"""The shipped email defaults in the shop's language: every notice renders in French, German and
Spanish with a realistic payload and no English left in it (subject, text, HTML, unsubscribe
line); a French shop's upcoming-order email goes out in French; a template the merchant
customised is sent as it is; the console's shop form saves the language."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse

from notifications.catalogue import NOTICES, in_language
from notifications.locales import TRANSLATIONS
from notifications.models import EmailTemplate
from notifications.rendering import DATE_FIELDS
from notifications.services import email_notifications_set, email_render, email_templates_ensure
from subscriptions import services
from subscriptions.actors import Actor
from tests import factories as f
from tests.notifications.payloads import realistic
from webhooks import engine
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

# Words of the English defaults and layout that a translated email must not contain (the payload's
# own values, written by the bank or the merchant, are removed before looking).
ENGLISH_MARKERS = re.compile(
    r"\b(Hi|Your|your|order|orders|subscription|Thanks|Thank|Manage|account|Unsubscribe|every|"
    r"points? left|earned|skipped|paused|cancelled|receipt|Please|gift|emails)\b"
)
PAYLOAD_ENGLISH = ("Your card was declined.", "$5 off your next order", "Every 2 weeks")
VARIABLE = re.compile(r"{{\s*([\w.]+)|{%\s*(?:if|for \w+ in)\s+(?:not\s+)?([\w.]+)")


def _english_left(text: str) -> list[str]:
    for value in PAYLOAD_ENGLISH:
        text = text.replace(value, "")
    text = re.sub(r"https?://\S+", "", text)  # links carry English path words
    return ENGLISH_MARKERS.findall(text)


def _variables(notice) -> set[str]:
    source = notice.subject + notice.default_text + notice.default_html
    return {a or b for a, b in VARIABLE.findall(source)}


@pytest.mark.parametrize("language", sorted(TRANSLATIONS))
@pytest.mark.parametrize("key", sorted(NOTICES))
def test_every_notice_renders_in_every_language_without_english(language, key, settings):
    settings.SITE_URL = "https://subs.example.com"
    shop = f.ShopFactory(name="Demo Coffee Co.", language=language, date_format="%d/%m/%Y")
    notice = NOTICES[key]
    english_shop = f.ShopFactory(name="Demo Coffee Co.", language="en", date_format="%d/%m/%Y")
    data = realistic(notice.event_type)

    rendered = email_render(shop=shop, notice=notice, template=None, data=data)
    english = email_render(shop=english_shop, notice=notice, template=None, data=data)

    assert rendered.subject != english.subject
    assert _english_left(english.text) != []  # the markers do catch the English default
    assert rendered.text.split("\n")[0] != english.text.split("\n")[0]  # the greeting
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part
        assert _english_left(re.sub(r"<[^>]+>", " ", part)) == [], part
    # The same variables as the English default, so the payload fills the same gaps.
    assert _variables(in_language(key, language)) == _variables(notice)
    # Dates keep the shop's format.
    for name in DATE_FIELDS:
        if name in data and f"{{{{ {name} }}}}" in notice.default_text:
            shown = dt.date.fromisoformat(data[name][:10]).strftime("%d/%m/%Y")
            assert shown in rendered.text
    if notice.optional and notice.recipient == "customer":
        assert f'lang="{language}"' in rendered.html
        footer = rendered.text.strip().splitlines()[-1]
        assert "https://subs.example.com/notifications/unsubscribe/" in footer
        assert footer.split(":")[0] != english.text.strip().splitlines()[-1].split(":")[0]


def test_a_french_shops_upcoming_order_email_is_french(shop, customer, sub):
    shop.language = "fr"
    shop.save()
    email_notifications_set(shop=shop, enabled=True, from_email="bonjour@demo-coffee.example")
    notice = NOTICES["subscription.upcoming_order"]
    template = EmailTemplate.objects.get(shop=shop, key=notice.key)
    assert template.subject.startswith("Votre prochaine commande")  # the console shows French too

    rendered = email_render(shop=shop, notice=notice, template=template, data=realistic(notice.event_type))

    assert rendered.subject.startswith("Votre prochaine commande Demo Coffee Co. arrive le ")
    assert rendered.text.startswith("Bonjour Jane,")
    assert "dans 3 jours" in rendered.text and "Gérer ma commande" in rendered.text
    assert "Vous ne souhaitez plus recevoir ces e-mails ? Se désinscrire" in rendered.text
    assert "Se désinscrire</a>" in rendered.html and "<p>Bonjour Jane,</p>" in rendered.html


def test_a_french_shops_skip_is_emailed_in_french_through_the_delivery_engine(shop, customer, sub):
    shop.language = "fr"
    shop.date_format = "%d/%m/%Y"
    shop.save()
    email_notifications_set(shop=shop, enabled=True, from_email="bonjour@demo-coffee.example")

    services.subscription_skip(subscription=sub, actor=Actor.customer("jane@example.com"))
    engine.relay(enqueue=False)
    ids = list(Delivery.objects.filter(destination_kind="notifications").values_list("pk", flat=True))
    assert set(engine.deliver_many(ids).values()) == {Delivery.Status.SUCCEEDED}

    (message,) = mail.outbox
    skipped = sub.next_billing_date.strftime("%d/%m/%Y")
    assert message.subject == f"Votre commande du {skipped} ne sera pas envoyée"
    assert message.body.startswith("Bonjour Jane,")
    assert f"nous avons sauté votre commande du {skipped}" in message.body


def test_a_customised_template_is_sent_as_written_whatever_the_language(shop, customer, sub):
    email_notifications_set(shop=shop, enabled=True)
    template = EmailTemplate.objects.get(shop=shop, key="subscription.skipped")
    template.subject = "Skipped: {{ skipped_date }} (see you soon)"
    template.save()
    shop.language = "de"
    shop.save()
    email_templates_ensure(shop=shop)  # what opening the console's template list does
    template.refresh_from_db()
    untouched = EmailTemplate.objects.get(shop=shop, key="subscription.paused")

    rendered = email_render(
        shop=shop,
        notice=NOTICES["subscription.skipped"],
        template=template,
        data=realistic("subscription.skipped"),
    )

    assert template.subject == "Skipped: {{ skipped_date }} (see you soon)"
    assert rendered.subject.startswith("Skipped: ") and rendered.text.startswith("Hi Jane,")
    # Its untouched neighbour follows the shop's new language.
    assert untouched.subject == "Ihr Abo bei {{ shop_name }} ist pausiert"
    # Only the fixed layout words follow the shop's language.
    assert "Abmelden" in rendered.text


def test_the_console_shop_form_saves_the_language(client, shop):
    user = f.StaffMembershipFactory(shop=shop, user__username="carla").user
    client.force_login(user)
    url = reverse("admin:subscriptions_shop_change", args=[shop.pk])
    assert 'name="language"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": shop.name,
            "currency": "USD",
            "timezone": "Europe/Paris",
            "date_format": "%d/%m/%Y",
            "language": "es",
            "billing_time": "08:00",
            "upcoming_notice_days": 3,
            "dunning_retries": 3,
            "dunning_retry_interval_days": 3,
            "dunning_final_action": "cancel",
            "unavailable_product_action": "skip_line",
            "brand_color": "#1f6feb",
            "logo_url": "",
        },
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.language == "es"

    refused = client.post(url, {"name": shop.name, "language": "klingon"})
    assert refused.status_code == 200 and "language" in refused.context["adminform"].form.errors
    shop.refresh_from_db()
    assert shop.language == "es"


@pytest.mark.parametrize(("language", "month"), [("fr", "avril"), ("es", "abril"), ("en", "April")])
def test_dates_keep_the_shops_format_with_the_month_in_its_language(language, month):
    shop = f.ShopFactory(name="Demo Coffee Co.", language=language, date_format="%-d %B %Y")
    data = {**realistic("subscription.skipped"), "skipped_date": "2025-04-01"}
    data["next_order_date"] = "15 April 2025"  # as the event shows it: the shop's format

    rendered = email_render(shop=shop, notice=NOTICES["subscription.skipped"], template=None, data=data)

    assert f"1 {month} 2025" in rendered.subject
    assert f"15 {month} 2025" in rendered.text
