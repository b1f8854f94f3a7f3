import datetime as dt
import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from portal.models import MagicLink
from subscriptions.actors import Actor
from subscriptions.events import account_page_link
from subscriptions.models import ActivityLog, Customer
from subscriptions.services import subscription_skip
from tests.factories import CustomerFactory, ShopFactory, StaffMembershipFactory, SubscriptionFactory
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db
LOGIN = "/account/login"


def request_link(client, shop, email, ip="10.0.0.1"):
    return client.post(f"{LOGIN}?shop={shop.domain}", {"shop": shop.domain, "email": email}, REMOTE_ADDR=ip)


def link_in(message) -> str:
    return re.search(r"http\S+/account/login/\S+/", message.body).group(0)


def test_magic_link_flow_signs_in_once(client, shop, customer, sub):
    page = client.get(f"{LOGIN}?shop={shop.domain}")
    assert page.status_code == 200 and b"<title>Sign in" in page.content
    response = request_link(client, shop, "ADA@example.com")
    assert response.status_code == 200 and b"Check your email" in response.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    url = link_in(mail.outbox[0])
    token = url.rstrip("/").rsplit("/", 1)[1]
    # Only the hash is stored.
    assert not MagicLink.objects.filter(token_hash=token).exists()
    assert MagicLink.objects.get().token_hash != token

    followed = client.get(url.split("testserver")[-1].replace("http://127.0.0.1:8000", ""), follow=True)
    assert followed.status_code == 200
    assert client.session["portal_customer_id"] == customer.pk
    assert client.session["portal_shop_id"] == shop.pk
    assert b"Your subscriptions" in followed.content
    customer.refresh_from_db()
    assert customer.has_logged_in

    client.post("/account/logout")
    again = client.get(reverse("portal:magic_link", args=[token]))
    assert again.status_code == 400
    assert "portal_customer_id" not in client.session


def test_expired_link_refused(client, shop, customer):
    request_link(client, shop, customer.email)
    token = link_in(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)):
        response = client.get(reverse("portal:magic_link", args=[token]))
    assert response.status_code == 400
    assert "portal_customer_id" not in client.session


def test_unknown_email_same_answer_no_mail(client, shop, customer):
    known = request_link(client, shop, customer.email)
    unknown = request_link(client, shop, "nobody@example.com")
    assert unknown.status_code == known.status_code == 200
    strip = lambda r, e: r.content.decode().replace(e, "")  # noqa: E731
    assert strip(known, customer.email) == strip(unknown, "nobody@example.com")
    assert len(mail.outbox) == 1


def test_rate_limited_per_email_and_per_ip(client, shop, customer):
    for i in range(5):
        assert request_link(client, shop, customer.email, ip=f"10.0.0.{i}").status_code == 200
    assert request_link(client, shop, customer.email, ip="10.0.0.99").status_code == 429
    assert len(mail.outbox) == 5
    for i in range(5):
        request_link(client, shop, f"other{i}@example.com", ip="10.9.9.9")
    assert request_link(client, shop, "fresh@example.com", ip="10.9.9.9").status_code == 429


def test_other_shop_customer_cannot_sign_in_here(client, shop, customer):
    other = ShopFactory()
    CustomerFactory(shop=other, email="bob@example.com")
    request_link(client, shop, "bob@example.com")
    assert mail.outbox == []


def test_deep_link_from_event_signs_in_and_opens_subscription(client, sub):
    subscription_skip(subscription=sub, actor=Actor.customer(sub.customer.email))
    link = OutboxEvent.objects.filter(type="subscription.skipped").get().payload["data"]["account_page_link"]
    assert "/account/link/" in link
    assert link.startswith(account_page_link(sub).split("/account/")[0])
    response = client.get(link[link.index("/account/") :])
    assert response.status_code == 302 and response.url == f"/account/subscriptions/{sub.pk}/"
    page = client.get(response.url)
    assert page.status_code == 200
    assert Customer.objects.get(pk=sub.customer_id).has_logged_in


def test_deep_link_tampered_or_expired_refused(client, sub):
    link = account_page_link(sub)
    path = link[link.index("/account/") :]
    assert client.get(path.replace(":", "x", 1)).status_code == 400
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=8)):
        assert client.get(path).status_code == 400


def test_view_as_customer_from_console(client, shop, customer, sub):
    staff = StaffMembershipFactory(shop=shop).user
    client.force_login(staff)
    change = client.get(reverse("admin:subscriptions_customer_change", args=[customer.pk]))
    assert b"View as customer" in change.content
    response = client.post(reverse("portal:view_as", args=[customer.pk]))
    assert response.status_code == 302
    assert client.session["portal_customer_id"] == customer.pk
    row = ActivityLog.objects.get(action="portal_viewed_as_customer")
    assert row.actor_type == "admin" and row.actor_name == staff.username and row.customer == customer
    assert client.get("/account/").status_code == 200


def test_view_as_other_shop_customer_is_404(client, customer):
    staff = StaffMembershipFactory(shop=ShopFactory()).user
    client.force_login(staff)
    assert client.post(reverse("portal:view_as", args=[customer.pk])).status_code == 404
    assert not ActivityLog.objects.filter(action="portal_viewed_as_customer").exists()


def test_pages_need_a_signed_in_customer(client, sub):
    assert client.get("/account/").status_code == 302
    assert client.get(f"/account/subscriptions/{sub.pk}/").url == LOGIN


def test_login_link_command(capsys, customer):
    from django.core.management import call_command

    call_command("portal_login_link", "--email", customer.email)
    assert "/account/login/" in capsys.readouterr().out
    assert MagicLink.objects.filter(customer=customer).count() == 1


def test_other_customers_subscription_is_404(signed_in, shop):
    other = SubscriptionFactory(customer=CustomerFactory(shop=shop))
    assert signed_in.get(f"/account/subscriptions/{other.pk}/").status_code == 404
    assert signed_in.post(f"/account/subscriptions/{other.pk}/skip/").status_code == 404
    other.refresh_from_db()
    assert not other.skips.exists()
