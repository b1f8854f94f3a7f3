"""The merchant console: tenancy on every page, lifecycle buttons through the services."""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from subscriptions.models import (
    ActivityLog,
    Customer,
    DiscountCode,
    Gift,
    Product,
    Shop,
    SkippedDate,
    Subscription,
    SubscriptionDiscount,
    SubscriptionProgram,
    Variant,
)
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def shop():
    return f.ShopFactory(name="Alpha Coffee")


@pytest.fixture
def other_shop():
    return f.ShopFactory(name="Bravo Tea")


@pytest.fixture
def staff_user(shop):
    return f.StaffMembershipFactory(shop=shop, user__username="alice").user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------------------- tenancy matrix


@dataclass(frozen=True)
class Console:
    """One registered console page: how to make a row of a shop, find it and spot it."""

    url_name: str
    make: Callable[[Shop, str], object]  # (shop, unique tag) -> row whose pages show the tag
    autocomplete: tuple[str, str, str] | None = None  # (app_label, model_name, field_name) pointing here

    def changelist(self) -> str:
        return reverse(f"admin:{self.url_name}_changelist")

    def change(self, obj) -> str:
        return reverse(f"admin:{self.url_name}_change", args=[obj.pk])


def _customer(shop, tag):
    return f.CustomerFactory(shop=shop, email=f"{tag}@example.com")


def _subscription(shop, tag):
    return f.SubscriptionFactory(customer=_customer(shop, tag))


def _order(shop, tag):
    order = f.OrderFactory(customer=_customer(shop, tag))
    f.OrderLineFactory(order=order)
    return order


def _activity(shop, tag):
    return f.ActivityLogFactory(shop=shop, description=f"Note {tag}", customer=_customer(shop, tag))


def _event(shop, tag):
    return f.OutboxEventFactory(shop_id=shop.pk, actor=f"admin:{tag}")


def _delivery(shop, tag):
    from webhooks.models import Delivery

    event = f.OutboxEventFactory(shop_id=shop.pk, type="subscription.skipped")
    return Delivery.objects.create(
        event=event,
        shop_id=shop.pk,
        destination_kind="webhook",
        destination_id="1",
        event_type=event.type,
        status=Delivery.Status.FAILED,
        last_error=f"ReadTimeout {tag}",
    )


def _billing_run(shop, tag):
    from subscriptions.models import BillingRun

    _shop(shop, tag)  # a run is named after its shop
    return BillingRun.objects.create(shop=shop, run_date=dt.date(2025, 1, 15), charged=3)


def _notice(shop, tag):
    from subscriptions.models import Notice

    subscription = _subscription(shop, tag)
    return Notice.objects.create(
        shop=shop, subscription=subscription, kind=Notice.Kind.UPCOMING_ORDER, date=dt.date(2025, 1, 18)
    )


def _shop(shop, tag):
    shop.name = tag
    shop.save()
    return shop


def _product(shop, tag):
    product = f.ProductFactory(shop=shop, title=tag)
    f.VariantFactory(product=product)
    return product


def _program(shop, tag):
    program = f.SubscriptionProgramFactory(shop=shop, name=tag)
    f.PlanFactory(program=program)
    return program


def _loyalty_program(shop, tag):
    from loyalty.models import LoyaltyProgram

    _shop(shop, tag)  # a program is named after its shop
    return LoyaltyProgram.objects.create(shop=shop, enabled=True)


def _reward(shop, tag):
    from loyalty.models import Reward

    return Reward.objects.create(shop=shop, name=tag, kind="fixed_amount", value=5, points_cost=100)


def _ledger_entry(shop, tag):
    from loyalty.services import points_earn

    return points_earn(customer=_customer(shop, tag), points=10, reason=f"Order {tag}")


def _referral(shop, tag):
    from loyalty.models import Referral
    from loyalty.services import referral_code_generate

    referrer = _customer(shop, tag)
    referee = f.CustomerFactory(shop=shop, email=f"friend-{tag}@example.com")
    code = referral_code_generate(customer=referrer)
    return Referral.objects.create(
        shop=shop, referrer=referrer, referee=referee, referee_email=referee.email, code=code
    )


CONSOLES = {
    "shop": Console("subscriptions_shop", _shop, ("subscriptions", "customer", "shop")),
    "customer": Console("subscriptions_customer", _customer, ("subscriptions", "subscription", "customer")),
    "subscription": Console(
        "subscriptions_subscription", _subscription, ("subscriptions", "order", "subscription")
    ),
    "product": Console("subscriptions_product", _product, ("subscriptions", "variant", "product")),
    "program": Console("subscriptions_subscriptionprogram", _program, ("subscriptions", "plan", "program")),
    "discount_code": Console(
        "subscriptions_discountcode",
        lambda shop, tag: f.DiscountCodeFactory(shop=shop, code=tag.upper()),
        ("subscriptions", "subscriptiondiscount", "code"),
    ),
    "order": Console("subscriptions_order", _order),
    "activity": Console("subscriptions_activitylog", _activity),
    "billing_run": Console("subscriptions_billingrun", _billing_run),
    "notice": Console("subscriptions_notice", _notice),
    "outbox": Console("webhooks_outboxevent", _event),
    "delivery": Console("webhooks_delivery", _delivery),
    "loyalty_program": Console("loyalty_loyaltyprogram", _loyalty_program),
    "reward": Console("loyalty_reward", _reward),
    "ledger_entry": Console("loyalty_ledgerentry", _ledger_entry),
    "referral": Console("loyalty_referral", _referral),
}


@pytest.fixture(params=sorted(CONSOLES))
def console(request):
    return CONSOLES[request.param]


@pytest.fixture
def two_rows(console, shop, other_shop):
    """A row of the staff user's shop tagged `mineqx`, one of another shop tagged `theirsqx`."""
    return console.make(shop, "mineqx"), console.make(other_shop, "theirsqx")


def test_every_registered_model_is_in_the_tenancy_matrix():
    from django.contrib import admin

    registered = {
        f"{m._meta.app_label}_{m._meta.model_name}"
        for m in admin.site._registry
        if m._meta.app_label in ("subscriptions", "webhooks", "loyalty")
    }
    covered = {c.url_name for c in CONSOLES.values()}
    # Staff memberships are for superusers only (tested below); webhook endpoints have their own tests.
    assert registered - covered <= {"subscriptions_staffmembership", "webhooks_webhookendpoint"}


def test_changelist_shows_own_rows_only(console, two_rows, staff_client):
    response = staff_client.get(console.changelist())
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [two_rows[0]]
    body = response.content.decode().lower()
    assert "mineqx" in body
    assert "theirsqx" not in body


def test_other_shops_change_page_is_404(console, two_rows, staff_client):
    mine, theirs = two_rows
    assert staff_client.get(console.change(mine)).status_code == 200
    response = staff_client.get(console.change(theirs))
    assert response.status_code == 404
    assert "theirsqx" not in response.content.decode()


def test_other_shops_change_page_cannot_be_posted(console, two_rows, staff_client):
    _, theirs = two_rows
    response = staff_client.post(console.change(theirs), {"name": "hijacked"})
    # 404 where the page can change rows; read-only pages refuse every POST with 403.
    assert response.status_code in (403, 404)
    assert "theirsqx" not in response.content.decode()


def test_search_does_not_leak(console, two_rows, staff_client):
    response = staff_client.get(console.changelist(), {"q": "theirsqx"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []
    # The term itself is echoed in the search box; no link to the other shop's row is.
    assert console.change(two_rows[1]) not in response.content.decode()
    response = staff_client.get(console.changelist(), {"q": "mineqx"})
    assert list(response.context["cl"].result_list) == [two_rows[0]]


@pytest.fixture(params=sorted(k for k, c in CONSOLES.items() if c.autocomplete is not None))
def autocompleted(request):
    """The consoles some other form reaches through an autocomplete (the others have none)."""
    return CONSOLES[request.param]


def test_autocomplete_does_not_leak(autocompleted, shop, other_shop, staff_client):
    console = autocompleted
    two_rows = console.make(shop, "mineqx"), console.make(other_shop, "theirsqx")
    app_label, model_name, field_name = console.autocomplete
    url = reverse("admin:autocomplete")
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    theirs = staff_client.get(url, {**params, "term": "theirsqx"})
    assert theirs.status_code == 200
    assert theirs.json()["results"] == []
    everything = staff_client.get(url, params)
    assert "theirsqx" not in everything.content.decode()
    mine = staff_client.get(url, {**params, "term": "mineqx"})
    assert [r["id"] for r in mine.json()["results"]] == [str(two_rows[0].pk)]


def test_superuser_sees_every_shop(console, two_rows, admin_client):
    response = admin_client.get(console.changelist())
    assert set(response.context["cl"].result_list) == set(two_rows)
    for obj in two_rows:
        assert admin_client.get(console.change(obj)).status_code == 200


def test_staff_without_membership_sees_nothing(console, two_rows, client):
    user = f.UserFactory(is_staff=True)
    client.force_login(user)
    response = client.get(console.changelist())
    assert response.status_code == 403
    assert client.get(console.change(two_rows[0])).status_code in (403, 404)
    index = client.get(reverse("admin:index"))
    assert "mineqx" not in index.content.decode()


def test_staff_without_membership_gets_empty_querysets(rf, shop):
    from django.contrib import admin

    user = f.UserFactory(is_staff=True)
    f.CustomerFactory(shop=shop)
    request = rf.get("/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in ("subscriptions", "webhooks"):
            assert not model_admin.get_queryset(request).exists(), model


def test_staff_memberships_are_for_superusers_only(staff_client, admin_client, shop):
    url = reverse("admin:subscriptions_staffmembership_changelist")
    assert staff_client.get(url).status_code == 403
    assert admin_client.get(url).status_code == 200


def test_shop_page_staff_cannot_add_or_delete_shops(staff_client, shop):
    assert staff_client.get(reverse("admin:subscriptions_shop_add")).status_code == 403
    assert staff_client.get(reverse("admin:subscriptions_shop_delete", args=[shop.pk])).status_code == 403
    response = staff_client.post(
        reverse("admin:subscriptions_shop_change", args=[shop.pk]),
        {
            "name": "Alpha Coffee Roasters",
            "currency": "USD",
            "timezone": "Europe/London",
            "date_format": "%B %-d, %Y",
            "language": "en",
            "billing_time": "08:00",
            "upcoming_notice_days": 3,
            "dunning_retries": 3,
            "dunning_retry_interval_days": 3,
            "dunning_final_action": "cancel",
            "unavailable_product_action": "skip_line",
            "brand_color": "#1f6feb",
            "logo_url": "",
            "domain": "stolen.example",
        },
    )
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.name == "Alpha Coffee Roasters"
    assert shop.domain != "stolen.example"  # read-only for staff


# ---------------------------------------------------------------------------- filters and forms


def test_list_filter_choices_are_scoped(staff_client, shop, other_shop):
    f.SubscriptionFactory(
        shop=shop, plan=f.PlanFactory(program=f.SubscriptionProgramFactory(shop=shop, name="OwnProgramqx"))
    )
    f.SubscriptionFactory(
        shop=other_shop,
        plan=f.PlanFactory(
            name="SecretPlanqx", program=f.SubscriptionProgramFactory(shop=other_shop, name="SecretProgramqx")
        ),
    )
    body = staff_client.get(reverse("admin:subscriptions_subscription_changelist")).content.decode()
    assert "OwnProgramqx" in body
    assert "SecretProgramqx" not in body
    assert "SecretPlanqx" not in body
    assert "Bravo Tea" not in body  # no shop filter for staff


def test_superuser_gets_a_shop_filter(admin_client, shop, other_shop):
    f.SubscriptionFactory(shop=shop)
    body = admin_client.get(reverse("admin:subscriptions_subscription_changelist")).content.decode()
    assert "By shop" in body


def test_program_filter_and_date_range_filter(staff_client, shop):
    soon = f.SubscriptionFactory(
        shop=shop,
        next_billing_date=dt.date.today() + dt.timedelta(days=3),
        customer__email="soonqx@example.com",
    )
    later = f.SubscriptionFactory(
        shop=shop,
        next_billing_date=dt.date.today() + dt.timedelta(days=40),
        customer__email="laterqx@example.com",
    )
    url = reverse("admin:subscriptions_subscription_changelist")
    to = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    body = staff_client.get(url, {"next_billing_date__lte": to}).content.decode()
    assert "soonqx" in body and "laterqx" not in body
    frm = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    body = staff_client.get(url, {"next_billing_date__gte": frm}).content.decode()
    assert "soonqx" not in body and "laterqx" in body
    body = staff_client.get(url, {"plan__program__id__exact": later.plan.program_id}).content.decode()
    assert "soonqx" not in body and "laterqx" in body
    assert soon.pk != later.pk


def test_subscription_search_by_name_and_sku(staff_client, shop):
    variant = f.VariantFactory(shop=shop, sku="BEANS-42")
    sub = f.SubscriptionFactory(
        shop=shop,
        customer=f.CustomerFactory(shop=shop, first_name="Grace", last_name="Hopper", email="gh@example.com"),
        lines=[variant],
    )
    f.SubscriptionFactory(shop=shop, customer__email="otherqx@example.com")
    url = reverse("admin:subscriptions_subscription_changelist")
    for term in ("Grace Hopper", "gh@example", "BEANS-42"):
        response = staff_client.get(url, {"q": term})
        assert list(response.context["cl"].result_list) == [sub], term


def test_subscription_changelist_shows_total_and_order_count(staff_client, shop):
    sub = f.SubscriptionFactory(shop=shop, lines=2, lines__quantity=3, order_count=5)
    response = staff_client.get(reverse("admin:subscriptions_subscription_changelist"))
    row = response.context["cl"].result_list[0]
    assert row == sub
    assert row.lines_total == sum(line.total for line in sub.lines.all())
    assert f"{row.lines_total:.2f} USD" in response.content.decode()


def test_customer_changelist_counts_subscriptions(staff_client, shop):
    customer = f.CustomerFactory(shop=shop, email="counted@example.com")
    f.SubscriptionFactory(customer=customer)
    f.SubscriptionFactory(customer=customer, status=Subscription.Status.CANCELLED)
    response = staff_client.get(reverse("admin:subscriptions_customer_changelist"))
    row = response.context["cl"].result_list[0]
    assert (row.subscription_total, row.subscription_active) == (2, 1)


def test_customer_page_shows_subscriptions_and_timeline_newest_first(staff_client, shop):
    customer = f.CustomerFactory(shop=shop)
    sub = f.SubscriptionFactory(customer=customer)
    f.ActivityLogFactory(
        subscription=sub, description="older entryqx", created_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    )
    f.ActivityLogFactory(
        subscription=sub, description="newer entryqx", created_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    )
    body = staff_client.get(
        reverse("admin:subscriptions_customer_change", args=[customer.pk])
    ).content.decode()
    assert reverse("admin:subscriptions_subscription_change", args=[sub.pk]) in body
    assert body.index("newer entryqx") < body.index("older entryqx")
    sub_body = staff_client.get(
        reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    ).content.decode()
    assert sub_body.index("newer entryqx") < sub_body.index("older entryqx")


def test_staff_adds_a_customer_in_their_shop_through_the_service(staff_client, shop, other_shop):
    url = reverse("admin:subscriptions_customer_add")
    form = staff_client.get(url).context["adminform"].form
    assert "shop" not in form.fields
    response = staff_client.post(
        url,
        {
            "email": "New@Example.com",
            "first_name": "Ada",
            "last_name": "",
            "phone": "",
            "external_id": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get(email="new@example.com")
    assert customer.shop == shop
    assert ActivityLog.objects.filter(
        customer=customer, action="customer_created", actor_type="admin"
    ).exists()


def test_duplicate_customer_email_is_a_form_error(staff_client, shop):
    f.CustomerFactory(shop=shop, email="taken@example.com")
    response = staff_client.post(
        reverse("admin:subscriptions_customer_add"),
        {"email": "TAKEN@example.com"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors


def test_staff_edits_customer_through_the_service(staff_client, shop):
    customer = f.CustomerFactory(shop=shop, first_name="Old")
    response = staff_client.post(
        reverse("admin:subscriptions_customer_change", args=[customer.pk]),
        {
            "email": customer.email,
            "first_name": "New",
            "last_name": customer.last_name,
            "phone": "",
            "external_id": "",
            **_customer_inlines(),
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.first_name == "New"
    assert ActivityLog.objects.filter(
        customer=customer, action="customer_updated", actor_type="admin"
    ).exists()


def _customer_inlines() -> dict:
    return {
        **_inline_management("subscriptions"),
        **_inline_management("addresses"),
        **_inline_management("payment_methods"),
    }


def _inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_product_with_variants_is_created_in_staff_shop(staff_client, shop):
    response = staff_client.post(
        reverse("admin:subscriptions_product_add"),
        {
            "title": "Espresso",
            "description": "",
            "active": "on",
            "external_id": "",
            **_inline_management("variants", total=1),
            "variants-0-title": "1 kg",
            "variants-0-sku": "ESP-1KG",
            "variants-0-price": "30.00",
            "variants-0-available": "on",
        },
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    product = Product.objects.get(title="Espresso")
    assert product.shop == shop
    assert Variant.objects.get(sku="ESP-1KG").shop == shop


def test_duplicate_sku_in_shop_is_a_form_error(staff_client, shop):
    f.VariantFactory(shop=shop, sku="DUP-1")
    response = staff_client.post(
        reverse("admin:subscriptions_product_add"),
        {
            "title": "Dup",
            "active": "on",
            **_inline_management("variants", total=1),
            "variants-0-title": "x",
            "variants-0-sku": "DUP-1",
            "variants-0-price": "1.00",
        },
    )
    assert response.status_code == 200
    assert not Product.objects.filter(title="Dup").exists()


def test_program_products_choices_are_scoped(staff_client, shop, other_shop):
    f.ProductFactory(shop=shop, title="Own beansqx")
    foreign = f.ProductFactory(shop=other_shop, title="Foreign beansqx")
    url = reverse("admin:subscriptions_subscriptionprogram_add")
    form = staff_client.get(url).context["adminform"].form
    assert [p.title for p in form.fields["products"].queryset] == ["Own beansqx"]
    response = staff_client.post(
        url,
        {"name": "Club", "active": "on", "products": [foreign.pk], **_inline_management("plans")},
    )
    assert response.status_code == 200  # not a valid choice
    assert not SubscriptionProgram.objects.filter(name="Club").exists()


def test_superuser_cannot_mix_shops_in_one_form(admin_client, shop, other_shop):
    foreign = f.ProductFactory(shop=other_shop)
    response = admin_client.post(
        reverse("admin:subscriptions_subscriptionprogram_add"),
        {
            "shop": shop.pk,
            "name": "Mixed",
            "active": "on",
            "products": [foreign.pk],
            **_inline_management("plans"),
        },
    )
    assert response.status_code == 200
    assert "this shop" in str(response.context["adminform"].form.errors)
    assert not SubscriptionProgram.objects.filter(name="Mixed").exists()


def test_discount_code_created_in_staff_shop(staff_client, shop):
    response = staff_client.post(
        reverse("admin:subscriptions_discountcode_add"),
        {
            "code": "welcome",
            "kind": "percentage",
            "value": "15",
            "applies_to": "both",
            "duration": "all",
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert DiscountCode.objects.get(code="WELCOME").shop == shop


def test_read_only_history_pages(staff_client, shop):
    order = f.OrderFactory(shop=shop)
    log = f.ActivityLogFactory(shop=shop)
    event = f.OutboxEventFactory(shop_id=shop.pk)
    for url_name in ("subscriptions_order", "subscriptions_activitylog", "webhooks_outboxevent"):
        assert staff_client.get(reverse(f"admin:{url_name}_add")).status_code == 403
    for url_name, obj in (
        ("subscriptions_order", order),
        ("subscriptions_activitylog", log),
        ("webhooks_outboxevent", event),
    ):
        response = staff_client.post(reverse(f"admin:{url_name}_change", args=[obj.pk]), {})
        assert response.status_code == 403
        assert staff_client.get(reverse(f"admin:{url_name}_delete", args=[obj.pk])).status_code == 403


def test_subscriptions_cannot_be_deleted_or_edited_directly(staff_client, shop):
    sub = f.SubscriptionFactory(shop=shop)
    assert (
        staff_client.get(reverse("admin:subscriptions_subscription_delete", args=[sub.pk])).status_code == 403
    )
    form = (
        staff_client.get(reverse("admin:subscriptions_subscription_change", args=[sub.pk]))
        .context["adminform"]
        .form
    )
    assert set(form.fields) == {"external_id"}


# ---------------------------------------------------------------------------- lifecycle buttons


def action_url(sub, name):
    return reverse("admin:subscriptions_subscription_action", args=[sub.pk, name])


@pytest.fixture
def sub(shop):
    return f.SubscriptionFactory(shop=shop, lines=2)


def today(shop) -> dt.date:
    return shop.local_today()


def post_action(client, sub, name, data=None):
    return client.post(action_url(sub, name), data or {}, follow=True)


def assert_recorded(sub, action, staff_user, event_type=None):
    log = ActivityLog.objects.filter(subscription=sub, action=action).latest("id")
    assert (log.actor_type, log.actor_name) == ("admin", staff_user.username)
    if event_type:
        event = OutboxEvent.objects.filter(shop_id=sub.shop_id, type=event_type).latest("occurred_at")
        assert event.actor == "admin"
        assert event.payload["data"]["subscription"]["id"] == sub.pk


def test_change_page_shows_buttons_for_the_status(staff_client, sub):
    body = staff_client.get(
        reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    ).content.decode()
    for name in ("skip", "pause", "cancel", "send_now", "gift", "set_next_billing_date", "apply_discount"):
        assert action_url(sub, name) in body
    assert action_url(sub, "activate") not in body
    sub.status = Subscription.Status.PAUSED
    sub.save()
    body = staff_client.get(
        reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    ).content.decode()
    assert action_url(sub, "activate") in body
    assert action_url(sub, "skip") not in body


@pytest.mark.parametrize("name", ["skip", "pause", "cancel", "gift", "swap_variant", "update_payment_method"])
def test_every_action_form_renders(staff_client, sub, name):
    response = staff_client.get(action_url(sub, name))
    assert response.status_code == 200
    assert "form" in response.context


def test_skip_and_unskip(staff_client, sub, staff_user):
    date = sub.next_billing_date
    response = post_action(staff_client, sub, "skip")
    assert "The order was skipped." in messages_of(response)
    assert SkippedDate.objects.filter(subscription=sub, date=date, unskipped_at__isnull=True).exists()
    assert_recorded(sub, "skipped", staff_user, "subscription.skipped")
    response = post_action(staff_client, sub, "unskip")
    assert "The skip was undone." in messages_of(response)
    assert not SkippedDate.objects.filter(subscription=sub, unskipped_at__isnull=True).exists()
    assert_recorded(sub, "unskipped", staff_user, "subscription.unskipped")


def test_pause_with_resume_date_then_resume(staff_client, sub, staff_user, shop):
    resume_on = today(shop) + dt.timedelta(days=30)
    response = post_action(staff_client, sub, "pause", {"resume_on": resume_on.isoformat()})
    assert response.redirect_chain[-1][0] == reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    sub.refresh_from_db()
    assert (sub.status, sub.auto_resume_date) == (Subscription.Status.PAUSED, resume_on)
    assert_recorded(sub, "paused", staff_user, "subscription.paused")
    post_action(staff_client, sub, "activate")
    sub.refresh_from_db()
    assert (sub.status, sub.auto_resume_date) == (Subscription.Status.ACTIVE, None)
    assert_recorded(sub, "activated", staff_user, "subscription.activated")


def test_cancel_with_reason(staff_client, sub, staff_user):
    post_action(staff_client, sub, "cancel", {"reason": "Moving abroad"})
    sub.refresh_from_db()
    assert (sub.status, sub.cancel_reason) == (Subscription.Status.CANCELLED, "Moving abroad")
    assert_recorded(sub, "canceled", staff_user, "subscription.canceled")


def test_set_next_billing_date(staff_client, sub, staff_user, shop):
    date = today(shop) + dt.timedelta(days=40)
    response = post_action(staff_client, sub, "set_next_billing_date", {"date": date.isoformat()})
    assert "The next billing date was changed." in messages_of(response)
    sub.refresh_from_db()
    assert sub.next_billing_date == date
    assert_recorded(sub, "next_order_date_changed", staff_user, "subscription.next_order_date_changed")


def test_send_now(staff_client, sub, staff_user, shop):
    post_action(staff_client, sub, "send_now")
    sub.refresh_from_db()
    assert sub.next_billing_date == shop.next_billing_run_date()
    assert_recorded(sub, "send_now", staff_user, "subscription.send_now")


def test_gift_next_order(staff_client, sub, staff_user):
    post_action(
        staff_client,
        sub,
        "gift",
        {"recipient_first_name": "Bob", "line1": "1 Main St", "city": "Springfield", "country": "us"},
    )
    gift = Gift.objects.get(subscription=sub)
    assert (gift.recipient_first_name, gift.country, gift.billing_date) == (
        "Bob",
        "US",
        sub.next_billing_date,
    )
    assert_recorded(sub, "gifted", staff_user, "subscription.gifted")


def test_swap_variant_change_quantity_add_and_remove_line(staff_client, sub, staff_user, shop):
    line = sub.lines.first()
    new_variant = f.VariantFactory(shop=shop)
    post_action(staff_client, sub, "swap_variant", {"line": line.pk, "variant": new_variant.pk})
    line.refresh_from_db()
    assert line.variant == new_variant
    assert_recorded(sub, "variant_swapped", staff_user)

    post_action(staff_client, sub, "change_quantity", {"line": line.pk, "quantity": 4})
    line.refresh_from_db()
    assert line.quantity == 4
    assert_recorded(sub, "quantity_changed", staff_user)

    added = f.VariantFactory(shop=shop)
    post_action(staff_client, sub, "add_line", {"variant": added.pk, "quantity": 2})
    assert sub.lines.filter(variant=added, quantity=2).exists()
    assert_recorded(sub, "line_added", staff_user)

    post_action(staff_client, sub, "remove_line", {"line": line.pk})
    assert not sub.lines.filter(pk=line.pk).exists()
    assert_recorded(sub, "line_removed", staff_user)


def test_change_frequency(staff_client, sub, staff_user, shop):
    plan = f.PlanFactory(
        program=sub.plan.program, name="Every 2 weeks", interval_unit="week", interval_count=2
    )
    post_action(staff_client, sub, "change_plan", {"plan": plan.pk})
    sub.refresh_from_db()
    assert sub.plan == plan
    assert_recorded(sub, "frequency_changed", staff_user)


def test_update_shipping_address(staff_client, sub, staff_user):
    post_action(
        staff_client, sub, "update_shipping_address", {"line1": "9 New Rd", "city": "Leeds", "country": "GB"}
    )
    sub.refresh_from_db()
    assert (sub.shipping_address.line1, sub.shipping_address.country) == ("9 New Rd", "GB")
    assert_recorded(sub, "address_changed", staff_user)


def test_update_payment_method_offers_only_the_customers_methods(staff_client, sub, staff_user, shop):
    other_customers = f.PaymentMethodFactory(shop=shop)
    new = f.PaymentMethodFactory(customer=sub.customer, last4="1111")
    form = staff_client.get(action_url(sub, "update_payment_method")).context["form"]
    assert other_customers not in form.fields["payment_method"].queryset
    post_action(staff_client, sub, "update_payment_method", {"payment_method": new.pk})
    sub.refresh_from_db()
    assert sub.payment_method == new
    assert_recorded(sub, "payment_method_updated", staff_user, "subscription.payment_method_updated")


def test_apply_and_remove_discount_code(staff_client, sub, staff_user, shop):
    f.DiscountCodeFactory(shop=shop, code="SAVE10")
    response = post_action(staff_client, sub, "apply_discount", {"code": "save10"})
    assert "The discount code was applied." in messages_of(response)
    assert SubscriptionDiscount.objects.filter(subscription=sub, removed_at__isnull=True).count() == 1
    assert_recorded(sub, "discount_applied", staff_user)
    post_action(staff_client, sub, "remove_discount", {"code": "SAVE10"})
    assert not SubscriptionDiscount.objects.filter(subscription=sub, removed_at__isnull=True).exists()
    assert_recorded(sub, "discount_removed", staff_user)


def test_another_shops_discount_code_is_refused(staff_client, sub, other_shop):
    f.DiscountCodeFactory(shop=other_shop, code="THEIRS")
    response = post_action(staff_client, sub, "apply_discount", {"code": "THEIRS"})
    assert "The code THEIRS does not exist." in messages_of(response)
    assert not SubscriptionDiscount.objects.exists()


# ---------------------------------------------------------------------------- refused actions


def _snapshot(sub):
    sub = Subscription.objects.get(pk=sub.pk)
    return (
        {
            f.attname: getattr(sub, f.attname)
            for f in Subscription._meta.concrete_fields
            if f.name != "updated_at"
        },
        ActivityLog.objects.count(),
        OutboxEvent.objects.count(),
        SkippedDate.objects.count(),
    )


@pytest.mark.parametrize(
    "status, name, data, message",
    [
        ("CANCELLED", "skip", {}, "Cannot skip an order: the subscription is CANCELLED."),
        ("PAUSED", "pause", {}, "Cannot pause: the subscription is PAUSED."),
        ("ACTIVE", "activate", {}, "Cannot resume: the subscription is ACTIVE."),
        ("CANCELLED", "cancel", {}, "Cannot cancel: the subscription is CANCELLED."),
        (
            "ACTIVE",
            "set_next_billing_date",
            {"date": "2001-01-01"},
            "The date 2001-01-01 is not in the future",
        ),
        ("ACTIVE", "pause", {"resume_on": "2001-01-01"}, "The date 2001-01-01 is not in the future"),
        ("ACTIVE", "unskip", {}, "There is no skip to undo for any upcoming order."),
        ("PAUSED", "send_now", {}, "Cannot send the order now: the subscription is PAUSED."),
        (
            "CANCELLED",
            "gift",
            {"recipient_first_name": "B", "line1": "x", "city": "y", "country": "US"},
            "CANCELLED",
        ),
        ("ACTIVE", "apply_discount", {"code": "NOPE"}, "The code NOPE does not exist."),
        (
            "ACTIVE",
            "gift",
            {"recipient_first_name": "B", "line1": "x", "city": "y", "country": "U1"},
            "two-letter",
        ),
    ],
)
def test_refused_actions_show_the_reason_and_change_nothing(staff_client, sub, status, name, data, message):
    Subscription.objects.filter(pk=sub.pk).update(
        status=status, auto_resume_date=None, cancelled_at=None if status != "CANCELLED" else sub.created_at
    )
    before = _snapshot(sub)
    response = staff_client.post(action_url(sub, name), data)
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"]]
    assert any(message in m for m in errors), errors
    assert message.split(":")[0] in response.content.decode().replace("&#x27;", "'")
    assert _snapshot(sub) == before


def test_remove_last_line_is_refused(staff_client, shop):
    sub = f.SubscriptionFactory(shop=shop, lines=1)
    response = staff_client.post(action_url(sub, "remove_line"), {"line": sub.lines.get().pk})
    assert "A subscription needs at least one product; cancel it instead." in messages_of(response)
    assert sub.lines.count() == 1


def test_unknown_action_and_other_shops_subscription_are_404(staff_client, sub, other_shop):
    assert staff_client.get(action_url(sub, "explode")).status_code == 404
    theirs = f.SubscriptionFactory(shop=other_shop)
    response = staff_client.post(action_url(theirs, "cancel"), {"reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Subscription.Status.ACTIVE


def test_line_of_another_subscription_is_not_a_choice(staff_client, sub, shop):
    other = f.SubscriptionFactory(shop=shop)
    response = staff_client.post(action_url(sub, "remove_line"), {"line": other.lines.get().pk})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert other.lines.count() == 1


# ---------------------------------------------------------------------------- creating subscriptions


def test_add_subscription_through_the_service(staff_client, shop, staff_user):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer)
    address = f.AddressFactory(customer=customer)
    plan = f.PlanFactory(shop=shop)
    variant = f.VariantFactory(shop=shop)
    url = reverse("admin:subscriptions_subscription_add")
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url, {"customer": customer.pk, "plan": plan.pk, "variant": variant.pk, "quantity": 2}, follow=True
    )
    sub = Subscription.objects.get(customer=customer)
    assert (sub.shop, sub.payment_method, sub.shipping_address) == (shop, method, address)
    assert sub.lines.get().quantity == 2
    assert response.redirect_chain[-1][0] == reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    assert_recorded(sub, "created", staff_user, "subscription.created")


def test_add_subscription_choices_are_scoped(staff_client, shop, other_shop):
    f.PlanFactory(shop=other_shop, name="Foreignqx")
    foreign_customer = f.CustomerFactory(shop=other_shop)
    response = staff_client.get(reverse("admin:subscriptions_subscription_add"))
    assert "Foreignqx" not in response.content.decode()
    response = staff_client.post(
        reverse("admin:subscriptions_subscription_add"),
        {
            "customer": foreign_customer.pk,
            "plan": f.PlanFactory(shop=shop).pk,
            "variant": f.VariantFactory(shop=shop).pk,
            "quantity": 1,
        },
    )
    assert response.status_code == 200
    assert "customer" in response.context["form"].errors
    assert not Subscription.objects.exists()


def test_add_subscription_shows_domain_errors(staff_client, shop):
    customer = f.CustomerFactory(shop=shop)
    response = staff_client.post(
        reverse("admin:subscriptions_subscription_add"),
        {
            "customer": customer.pk,
            "plan": f.PlanFactory(shop=shop).pk,
            "variant": f.VariantFactory(shop=shop, available=False).pk,
            "quantity": 1,
        },
    )
    assert response.status_code == 200
    assert any("is not available to order" in m for m in messages_of(response))
    assert not Subscription.objects.exists()


def test_outbox_event_page_shows_payload(staff_client, shop):
    event = f.OutboxEventFactory(shop_id=shop.pk, type="subscription.paused")
    body = staff_client.get(reverse("admin:webhooks_outboxevent_change", args=[event.pk])).content.decode()
    assert "subscription.paused" in body
    assert json.dumps(event.payload["type"]) in body.replace("&quot;", '"')


# ---------------------------------------------------------------------------- console odds and ends


def test_staff_index_lists_the_console_pages(staff_client):
    body = staff_client.get(reverse("admin:index")).content.decode()
    for url_name in ("subscriptions_subscription", "subscriptions_customer", "webhooks_outboxevent"):
        assert reverse(f"admin:{url_name}_changelist") in body
    assert reverse("admin:subscriptions_staffmembership_changelist") not in body


def test_timeline_link_filters_the_activity_log(staff_client, shop):
    sub = f.SubscriptionFactory(shop=shop)
    f.ActivityLogFactory(subscription=sub, description="mine onlyqx")
    f.ActivityLogFactory(shop=shop, description="someone elseqx")
    url = reverse("admin:subscriptions_activitylog_changelist")
    for query in (
        {"subscription__id__exact": sub.pk},
        {"customer__id__exact": sub.customer_id},
    ):
        response = staff_client.get(url, query)
        assert response.status_code == 200
        assert [log.description for log in response.context["cl"].result_list] == ["mine onlyqx"]


def test_invalid_date_range_does_not_crash(staff_client):
    response = staff_client.get(
        reverse("admin:subscriptions_subscription_changelist"), {"next_billing_date__gte": "soon"}
    )
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_superuser_adds_a_customer_to_a_chosen_shop(admin_client, shop, other_shop):
    response = admin_client.post(
        reverse("admin:subscriptions_customer_add"),
        {"shop": other_shop.pk, "email": "picked@example.com", "first_name": "P"},
    )
    assert response.status_code == 302
    assert Customer.objects.get(email="picked@example.com").shop == other_shop


def test_superuser_cannot_move_a_row_to_another_shop(admin_client, shop):
    customer = f.CustomerFactory(shop=shop)
    form = (
        admin_client.get(reverse("admin:subscriptions_customer_change", args=[customer.pk]))
        .context["adminform"]
        .form
    )
    assert "shop" not in form.fields


def test_external_id_is_the_one_field_edited_in_the_form(staff_client, sub):
    response = staff_client.post(
        reverse("admin:subscriptions_subscription_change", args=[sub.pk]),
        {
            "external_id": "gid://shopify/SubscriptionContract/1",
            "status": "CANCELLED",
            "next_billing_date": "2001-01-01",
            **_inline_management("lines", total=2, initial=2),
            "lines-0-id": sub.lines.all()[0].pk,
            "lines-1-id": sub.lines.all()[1].pk,
        },
    )
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.external_id == "gid://shopify/SubscriptionContract/1"
    assert sub.status == Subscription.Status.ACTIVE
    assert sub.next_billing_date != dt.date(2001, 1, 1)


def test_event_type_filter_lists_own_shops_types_only(staff_client, shop, other_shop):
    f.OutboxEventFactory(shop_id=shop.pk, type="subscription.ownqx")
    f.OutboxEventFactory(shop_id=other_shop.pk, type="subscription.theirsqx")
    body = staff_client.get(reverse("admin:webhooks_outboxevent_changelist")).content.decode()
    assert "subscription.ownqx" in body
    assert "subscription.theirsqx" not in body
