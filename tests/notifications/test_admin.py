"""Email templates in the merchant console: staff edit their shop's templates, preview them with a
sample payload, send a test to themselves and turn each on or off; a broken template is refused
with its line and reason; another shop's template is a 404 on every page."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import EmailTemplate, NotificationSettings
from notifications.services import email_notifications_set
from tests import factories as f

pytestmark = pytest.mark.django_db
KEY = "subscription.upcoming_order"


@pytest.fixture
def staff(shop):
    return f.StaffMembershipFactory(
        shop=shop, user__username="alice", user__email="alice@demo-coffee.example"
    ).user


@pytest.fixture
def console(client, staff, emails_on):
    client.force_login(staff)
    return client


@pytest.fixture
def template(emails_on, shop):
    return EmailTemplate.objects.get(shop=shop, key=KEY)


@pytest.fixture
def theirs(db):
    other = f.ShopFactory()
    email_notifications_set(shop=other, enabled=True)
    return EmailTemplate.objects.get(shop=other, key=KEY)


def _form(template, **changes) -> dict:
    data = {
        "enabled": "on" if template.enabled else "",
        "subject": template.subject,
        "text_body": template.text_body,
        "html_body": template.html_body,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_staff_see_their_shops_templates_only(console, template, theirs):
    page = console.get(reverse("admin:notifications_emailtemplate_changelist"))
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert template.pk in shown and theirs.pk not in shown
    assert len(shown) == EmailTemplate.objects.filter(shop=template.shop).count() == 19


@pytest.mark.parametrize(
    ("url_name", "method"),
    [
        ("admin:notifications_emailtemplate_change", "get"),
        ("admin:notifications_emailtemplate_change", "post"),
        ("admin:notifications_emailtemplate_preview", "post"),
        ("admin:notifications_emailtemplate_send_test", "post"),
    ],
)
def test_another_shops_template_is_404(console, theirs, url_name, method):
    url = reverse(url_name, args=[theirs.pk])
    response = (
        getattr(console, method)(url, _form(theirs, subject="Hacked"))
        if method == "post"
        else console.get(url)
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.subject != "Hacked"
    assert mail.outbox == []


def test_staff_edit_and_turn_off_a_template(console, template):
    url = reverse("admin:notifications_emailtemplate_change", args=[template.pk])
    response = console.post(url, _form(template, enabled="", subject="Coming up: {{ next_order_date }}"))
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.enabled, template.subject) == (False, "Coming up: {{ next_order_date }}")


def test_a_broken_template_is_refused_with_line_and_reason(console, template):
    url = reverse("admin:notifications_emailtemplate_change", args=[template.pk])
    broken = "Hi {{ first_name }},\n\n{% for item in items %}\n{{ item.product }}\n"
    response = console.post(url, _form(template, text_body=broken))
    assert response.status_code == 200
    error = response.context["adminform"].form.errors["text_body"][0]
    assert error.startswith("Line 3:") and "endfor" in error
    template.refresh_from_db()
    assert "{% for item in items %}\n{{ item.product }}\n" not in template.text_body


def test_preview_renders_the_draft_with_a_sample_payload_without_saving(console, template, sub):
    url = reverse("admin:notifications_emailtemplate_preview", args=[template.pk])
    response = console.post(url, _form(template, subject="Soon: {{ first_name }}, {{ next_order_date }}"))
    assert response.status_code == 200
    rendered = response.context["rendered"]
    assert rendered.subject.startswith("Soon: Jane, ")  # the shop's own first subscription as sample
    assert "Hi Jane," in rendered.text and "srcdoc" in response.content.decode()
    template.refresh_from_db()
    assert not template.subject.startswith("Soon")


def test_preview_of_a_broken_draft_names_the_error(console, template):
    url = reverse("admin:notifications_emailtemplate_preview", args=[template.pk])
    response = console.post(url, _form(template, html_body="<p>{% if %}</p>"))
    assert response.status_code == 200 and response.context["rendered"] is None
    assert "Line 1:" in response.content.decode()


def test_send_a_test_to_yourself(console, template, staff):
    url = reverse("admin:notifications_emailtemplate_send_test", args=[template.pk])
    response = console.post(url, _form(template))
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [staff.email] and message.subject.startswith(
        "[Test] Your next Demo Coffee Co. order"
    )


def test_the_settings_page_turns_native_emails_on_with_the_default_templates(client, shop):
    user = f.StaffMembershipFactory(shop=shop, user__username="bob").user
    client.force_login(user)
    opened = client.get(reverse("admin:notifications_notificationsettings_changelist"))
    row = NotificationSettings.objects.get(shop=shop)
    assert opened.status_code == 302 and opened.url.endswith(f"/{row.pk}/change/")
    assert not row.email_enabled and not EmailTemplate.objects.filter(shop=shop).exists()

    saved = client.post(opened.url, {"email_enabled": "on", "from_email": "shop@example.com", "reply_to": ""})
    assert saved.status_code == 302
    row.refresh_from_db()
    assert row.email_enabled and row.from_email == "shop@example.com"
    assert EmailTemplate.objects.filter(shop=shop, enabled=True).count() == 19


def test_another_shops_settings_are_404(console, theirs):
    row = NotificationSettings.objects.get(shop=theirs.shop)
    assert (
        console.get(reverse("admin:notifications_notificationsettings_change", args=[row.pk])).status_code
        == 404
    )
