"""`manage.py seed_demo`: a believable, consistent demo that loads once."""

from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db.models import Count, F, Q

from subscriptions.models import (
    ActivityLog,
    Customer,
    DiscountCode,
    Gift,
    Order,
    OrderLine,
    Shop,
    SkippedDate,
    Subscription,
    SubscriptionLine,
    Variant,
)

pytestmark = pytest.mark.django_db

Status = Subscription.Status


@pytest.fixture
def seeded():
    out = StringIO()
    call_command("seed_demo", customers=30, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in apps.get_app_config("subscriptions").get_models()
    }


def test_creates_both_shops_and_prints_the_logins(seeded):
    demo = Shop.objects.get(domain="demo-shop.example")
    other = Shop.objects.get(domain="other-shop.example")

    assert (demo.name, demo.currency, demo.timezone, demo.billing_time.hour) == (
        "Demo Coffee Co.",
        "USD",
        "America/New_York",
        9,
    )
    assert demo.customers.count() == 30
    assert 0 < other.customers.count() < 30
    assert demo.programs.count() >= 2
    assert demo.products.count() >= 10
    assert set(DiscountCode.objects.filter(shop=demo).values_list("code", flat=True)) >= {
        "WELCOME10",
        "LOYAL5",
    }
    for login in (
        "admin / admin",
        "staff@demo-shop.example / demo",
        "staff@other-shop.example / demo",
        "support@demo-shop.example / demo",
    ):
        assert login in seeded


@pytest.mark.parametrize(
    "username,password,shop_domain",
    [
        ("admin", "admin", None),
        ("staff@demo-shop.example", "demo", "demo-shop.example"),
        ("staff@other-shop.example", "demo", "other-shop.example"),
    ],
)
def test_logins_work(seeded, client, django_user_model, username, password, shop_domain):
    assert client.login(username=username, password=password)
    user = django_user_model.objects.get(username=username)
    assert user.is_staff
    if shop_domain is None:
        assert user.is_superuser
    else:
        assert user.membership.shop.domain == shop_domain
        assert user.membership.role == "owner"
        assert list(user.groups.values_list("name", flat=True)) == ["Shop owner"]
        assert user.has_perm("subscriptions.change_subscription")
        assert user.has_perm("webhooks.view_outboxevent")


def test_owner_group_has_every_model_permission_of_the_shop_apps(seeded):
    expected = Permission.objects.filter(
        content_type__app_label__in=[
            "subscriptions",
            "webhooks",
            "integrations",
            "loyalty",
            "console",
            "notifications",
            "checkout",
            "shopify",
            "migration",
        ],
        codename__regex=r"^(add|change|view|delete)_",
    )
    group = Group.objects.get(name="Shop owner")
    assert set(expected) <= set(group.permissions.all())
    assert not group.permissions.filter(content_type__app_label="auth").exists()


def test_support_login_is_read_only(seeded, client, django_user_model):
    assert client.login(username="support@demo-shop.example", password="demo")
    user = django_user_model.objects.get(username="support@demo-shop.example")
    assert user.membership.role == "support"
    assert user.has_perm("subscriptions.view_subscription")
    assert not user.has_perm("subscriptions.change_subscription")


def test_states_are_mixed_and_invariants_hold(seeded):
    demo = Shop.objects.get(domain="demo-shop.example")
    subs = Subscription.objects.filter(shop=demo)
    by_status = dict(subs.values_list("status").annotate(n=Count("id")))

    assert set(by_status) == set(Status.values)
    assert by_status[Status.ACTIVE] > by_status[Status.PAUSED]
    assert 2 <= subs.count() / demo.customers.count() <= 4
    today = demo.local_today()
    active = subs.filter(status=Status.ACTIVE)
    assert not active.filter(Q(next_billing_date__isnull=True) | Q(next_billing_date__lte=today)).exists()
    assert not subs.exclude(status=Status.PAUSED).filter(auto_resume_date__isnull=False).exists()
    assert (
        subs.filter(status=Status.CANCELLED).exclude(cancel_reason="").count() == by_status[Status.CANCELLED]
    )
    assert not subs.exclude(currency=demo.currency).exists()

    # 1-3 lines each, quantities >= 1; paid orders match order_count.
    line_counts = subs.annotate(n=Count("lines")).values_list("n", flat=True)
    assert set(line_counts) <= {1, 2, 3}
    assert not SubscriptionLine.objects.filter(quantity__lt=1).exists()
    paid = Count("orders", filter=Q(orders__status=Order.Status.PAID))
    assert not subs.annotate(paid=paid).exclude(paid=F("order_count")).exists()
    assert Order.objects.filter(shop=demo).exists()
    assert not Order.objects.annotate(n=Count("lines")).filter(n=0).exists()
    assert SkippedDate.objects.filter(shop=demo).exists() or demo.customers.count() < 30
    assert Gift.objects.filter(shop=demo).exists()
    assert ActivityLog.objects.filter(shop=demo, action="created").count() == subs.count()

    # Unique SKUs per shop; every row's related rows are in its own shop.
    skus = Variant.objects.filter(shop=demo).values_list("sku", flat=True)
    assert len(skus) == len(set(skus))
    assert not subs.exclude(customer__shop=F("shop")).exists()
    assert not subs.exclude(plan__shop=F("shop")).exists()
    assert not subs.exclude(payment_method__customer=F("customer")).exists()
    assert not subs.exclude(shipping_address__customer=F("customer")).exists()
    assert not SubscriptionLine.objects.exclude(variant__shop=F("shop")).exists()
    assert not SubscriptionLine.objects.exclude(subscription__shop=F("shop")).exists()
    assert not Order.objects.exclude(customer__shop=F("shop")).exists()
    assert not OrderLine.objects.exclude(order__shop=F("shop")).exists()
    assert not Customer.objects.filter(shop=demo, subscriber_since__isnull=True).exists()

    # Every row passes model validation (a sample of each kind).
    for model in (Subscription, SubscriptionLine, Order, Customer, Gift, SkippedDate, ActivityLog):
        for obj in model.objects.filter(shop=demo)[:20]:
            obj.full_clean()


def test_second_run_adds_nothing(seeded):
    before = _counts()
    out = StringIO()

    call_command("seed_demo", customers=30, stdout=out)

    assert _counts() == before
    assert "already has customers" in out.getvalue()
    assert "staff@demo-shop.example / demo" in out.getvalue()


def test_same_seed_gives_the_same_data(seeded):
    call_command("seed_demo", customers=30, shop_domain="copy.example", stdout=StringIO())

    def emails(domain):
        return list(
            Customer.objects.filter(shop__domain=domain).order_by("id").values_list("email", flat=True)
        )

    assert emails("copy.example") == emails("demo-shop.example")


def test_the_demo_shop_emails_its_upcoming_orders(seeded, settings):
    """`make run`'s done-when: after seed_demo, the notices tick and the delivery engine put at
    least one upcoming-order email into the outbox (var/mail in `make run`; locmem here)."""
    from django.core import mail

    from notifications.models import NotificationSettings
    from subscriptions.services.notices import shop_send_notices
    from webhooks import engine
    from webhooks.models import Delivery

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo = Shop.objects.get(domain="demo-shop.example")
    assert NotificationSettings.objects.get(shop=demo).email_enabled
    assert "native customer emails on" in seeded

    assert shop_send_notices(shop=demo)["upcoming_order"] >= 1
    engine.relay(enqueue=False)
    sent = engine.deliver_many(
        list(Delivery.objects.filter(destination_kind="notifications").values_list("pk", flat=True))
    )

    assert sent and set(sent.values()) == {Delivery.Status.SUCCEEDED}
    upcoming = [m for m in mail.outbox if m.subject.startswith("Your next Demo Coffee Co. order is on ")]
    assert upcoming and all(m.from_email == "hello@demo-shop.example" for m in upcoming)
