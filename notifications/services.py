"""Native notifications: the shop's switch, its templates (checked when saved), unsubscribes, and
building and sending one email. The delivery engine calls `notice_email_send` (destination.py);
the console calls the rest."""

import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.urls import reverse

from notifications.catalogue import CUSTOMER, NOTICES, Notice, default_versions, in_language
from notifications.models import EmailTemplate, NotificationSettings, Unsubscribe
from notifications.rendering import (
    RenderedEmail,
    TemplateProblem,
    notice_context,
    render_email,
    render_source,
)
from subscriptions.models import Shop
from webhooks.registry import sample_data

log = logging.getLogger(__name__)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"


# ---------------------------------------------------------------- the shop's switch and templates


def is_customised(template: EmailTemplate) -> bool:
    """Whether the merchant changed the template's words (it is no shipped default in any
    language): a customised template is sent as it is, whatever the shop's language."""
    own = (template.subject, template.text_body, template.html_body)
    return own not in default_versions(template.key)


def email_templates_ensure(*, shop: Shop) -> int:
    """Give the shop its own copy of every default template it does not have yet (all on), in
    the shop's language; templates the merchant has not customised follow a change of language."""
    have = {row.key: row for row in EmailTemplate.objects.filter(shop=shop)}
    rows = []
    for key in NOTICES:
        notice = in_language(key, shop.language)
        words = (notice.subject, notice.default_text, notice.default_html)
        found = have.get(key)
        if found is None:
            rows.append(
                EmailTemplate(shop=shop, key=key, subject=words[0], text_body=words[1], html_body=words[2])
            )
        elif not is_customised(found) and (found.subject, found.text_body, found.html_body) != words:
            found.subject, found.text_body, found.html_body = words
            found.save(update_fields=["subject", "text_body", "html_body", "updated_at"])
    EmailTemplate.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def email_notifications_set(*, shop: Shop, enabled: bool, from_email: str = "") -> NotificationSettings:
    """Turn the shop's native emails on or off (turning on gives it the default templates)."""
    found, _ = NotificationSettings.objects.get_or_create(shop=shop)
    found.email_enabled = enabled
    if from_email:
        found.from_email = from_email
    found.save()
    if enabled:
        email_templates_ensure(shop=shop)
    return found


def email_template_problems(*, key: str, subject: str, text_body: str, html_body: str) -> dict[str, str]:
    """{field: "Line N: reason"} for every part that does not compile or render with a sample
    payload of its event: refused when saved, so nothing breaks at send time."""
    notice = NOTICES[key]
    context = notice_context(
        data=sample_data(notice.event_type, None),
        shop_name="Sample shop",
        date_format="%B %-d, %Y",
        unsubscribe_link="https://example.com/unsubscribe",
    )
    problems = {}
    for field, source, html in (
        ("subject", subject, False),
        ("text_body", text_body, False),
        ("html_body", html_body, True),
    ):
        try:
            render_source(source, context, html=html)
        except TemplateProblem as exc:
            problems[field] = f"Line {exc.line}: {exc.reason}" if exc.line else exc.reason
        except Exception as exc:  # a tag that compiles but cannot render (include, extends...)
            problems[field] = f"{exc.__class__.__name__}: {exc}"
    return problems


def email_template_save(
    *, template: EmailTemplate, subject: str, text_body: str, html_body: str, enabled: bool
) -> EmailTemplate:
    problems = email_template_problems(
        key=template.key, subject=subject, text_body=text_body, html_body=html_body
    )
    if problems:
        raise ValidationError(problems)
    template.subject, template.text_body, template.html_body = subject, text_body, html_body
    template.enabled = enabled
    template.save()
    return template


# ---------------------------------------------------------------- unsubscribe


def unsubscribe_token(*, shop_id: int, email: str) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"s": shop_id, "e": email.strip().lower()})


def unsubscribe_link(*, shop_id: int, email: str) -> str:
    token = unsubscribe_token(shop_id=shop_id, email=email)
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[token])


def unsubscribe_token_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        return int(data["s"]), str(data["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def email_unsubscribe(*, shop_id: int, email: str) -> Unsubscribe:
    """No more optional notices to this address from this shop (receipts and failed payments
    still go out)."""
    found, _ = Unsubscribe.objects.get_or_create(shop_id=shop_id, email=email.strip().lower())
    return found


def is_unsubscribed(*, shop_id: int, email: str) -> bool:
    return Unsubscribe.objects.filter(shop_id=shop_id, email=(email or "").strip().lower()).exists()


# ---------------------------------------------------------------- one email


def recipient_of(notice: Notice, data: dict) -> str:
    if notice.recipient == CUSTOMER:
        return ((data.get("customer") or {}).get("email") or "").strip()
    return ((data.get("gift") or {}).get("recipient_email") or "").strip()


def email_render(*, shop: Shop, notice: Notice, template: EmailTemplate | None, data: dict) -> RenderedEmail:
    """The email in the shop's language: the template as the merchant customised it, or else the
    shipped default in the shop's language."""
    to = recipient_of(notice, data)
    link = unsubscribe_link(shop_id=shop.pk, email=to) if notice.optional and to else ""
    context = notice_context(
        data=data,
        shop_name=shop.name,
        date_format=shop.date_format,
        unsubscribe_link=link,
        language=shop.language,
    )
    if template is None or not is_customised(template):
        default = in_language(notice.key, shop.language)
        subject, text_body, html_body = default.subject, default.default_text, default.default_html
    else:
        subject, text_body, html_body = template.subject, template.text_body, template.html_body
    return render_email(
        subject=subject,
        text_body=text_body,
        html_body=html_body,
        notice=notice,
        context=context,
        language=shop.language,
    )


def email_send(
    *, shop: Shop, notice: Notice, rendered: RenderedEmail, to: str, unsubscribe: str = ""
) -> None:
    """Through the configured Django email backend; raises what the backend raises."""
    found = NotificationSettings.objects.filter(shop=shop).first()
    headers = {}
    if unsubscribe:
        # RFC 8058 one-click unsubscribe: mail clients POST to the link.
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=(found.from_email if found and found.from_email else settings.DEFAULT_FROM_EMAIL),
        to=[to],
        reply_to=[found.reply_to] if found and found.reply_to else None,
        headers=headers,
        connection=get_connection(fail_silently=False),
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send(fail_silently=False)


def email_send_test(*, template: EmailTemplate, to: str) -> RenderedEmail:
    """The template, rendered with a sample payload of the shop, sent to a staff member."""
    notice = NOTICES[template.key]
    data = sample_data(notice.event_type, template.shop_id)
    rendered = email_render(shop=template.shop, notice=notice, template=template, data=data)
    rendered = RenderedEmail(f"[Test] {rendered.subject}", rendered.text, rendered.html)
    email_send(shop=template.shop, notice=notice, rendered=rendered, to=to)
    return rendered


def email_preview(*, template: EmailTemplate, subject: str, text_body: str, html_body: str) -> RenderedEmail:
    notice = NOTICES[template.key]
    data = sample_data(notice.event_type, template.shop_id)
    draft = EmailTemplate(key=template.key, subject=subject, text_body=text_body, html_body=html_body)
    return email_render(shop=template.shop, notice=notice, template=draft, data=data)


def demo_shop_setup(sender, shop: Shop, **kwargs) -> str:
    """`seed_demo`: the demo shop sends native emails (once: a merchant's later choice stands)."""
    if NotificationSettings.objects.filter(shop=shop).exists():
        email_templates_ensure(shop=shop)
        return ""
    email_notifications_set(shop=shop, enabled=True, from_email=f"hello@{shop.domain}")
    return f"{shop.name}: native customer emails on (development outbox: {settings.EMAIL_FILE_PATH})."
