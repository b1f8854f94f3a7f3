import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from subscriptions.models import ActivityLog, DiscountCode, Subscription
from tests.factories import (
    DiscountCodeFactory,
    OrderFactory,
    PlanFactory,
    SubscriptionFactory,
    VariantFactory,
)
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db


def act(client, sub, action, data=None):
    return client.post(f"/account/subscriptions/{sub.pk}/{action}/", data or {}, follow=True)


def fmt(sub, date):
    return date.strftime(sub.shop.date_format)


def customer_actions(sub):
    return list(
        ActivityLog.objects.filter(subscription=sub, actor_type="customer").values_list("action", flat=True)
    )


def test_pages_render(signed_in, sub):
    OrderFactory(subscription=sub)
    overview = signed_in.get("/account/")
    assert overview.status_code == 200
    assert fmt(sub, sub.next_billing_date).encode() in overview.content
    assert b"Portal Shop" in overview.content and b"<title>" in overview.content
    page = signed_in.get(f"/account/subscriptions/{sub.pk}/")
    assert page.status_code == 200
    for text in (
        b"Skip next order",
        b"Change date",
        b"Pause",
        b"Gift next order",
        b"Swap",
        b"Cancel subscription",
    ):
        assert text in page.content
    assert b"csrfmiddlewaretoken" in page.content
    assert signed_in.get("/account/orders/").status_code == 200


def test_skip_and_unskip(signed_in, sub):
    old = sub.next_billing_date
    response = act(signed_in, sub, "skip")
    new_date = sub.date_after(old)
    assert messages_of(response) == [
        f"Your next order was skipped. Your next order is on {fmt(sub, new_date)}."
    ]
    response = act(signed_in, sub, "unskip")
    assert fmt(sub, old) in messages_of(response)[0]
    assert customer_actions(sub) == ["unskipped", "skipped"]
    assert ActivityLog.objects.filter(subscription=sub).first().actor_name == sub.customer.email


def test_change_date_refused_when_in_past_changes_nothing(signed_in, sub):
    old = sub.next_billing_date
    response = act(signed_in, sub, "change-date", {"date": "2001-01-01"})
    assert response.status_code == 409  # refused: shown on the page, nothing changed
    assert "is not in the future" in messages_of(response)[0]
    sub.refresh_from_db()
    assert sub.next_billing_date == old and customer_actions(sub) == []

    target = old + dt.timedelta(days=5)
    response = act(signed_in, sub, "change-date", {"date": target.isoformat()})
    assert fmt(sub, target) in messages_of(response)[0]
    sub.refresh_from_db()
    assert sub.next_billing_date == target


def test_send_now_and_gift(signed_in, sub):
    response = act(signed_in, sub, "send-now")
    sub.refresh_from_db()
    assert sub.next_billing_date == sub.shop.next_billing_run_date()
    assert "next billing run" in messages_of(response)[0]
    response = act(
        signed_in,
        sub,
        "gift",
        {"recipient_first_name": "Grace", "line1": "1 Main St", "city": "Town", "country": "us"},
    )
    assert "Grace" in messages_of(response)[0]
    assert sub.gifts.get().country == "US"


def test_gift_missing_fields_refused(signed_in, sub):
    response = act(signed_in, sub, "gift", {"recipient_first_name": "Grace"})
    assert messages_of(response) and not sub.gifts.exists()


def test_pause_for_months_and_resume(signed_in, sub):
    response = act(signed_in, sub, "pause", {"months": "2"})
    sub.refresh_from_db()
    assert sub.status == "PAUSED" and sub.auto_resume_date is not None
    assert fmt(sub, sub.auto_resume_date) in messages_of(response)[0]
    response = act(signed_in, sub, "resume")
    sub.refresh_from_db()
    assert sub.status == "ACTIVE"
    assert "active again" in messages_of(response)[0]


def test_pause_until_date(signed_in, sub):
    date = sub.shop.local_today() + dt.timedelta(days=40)
    act(signed_in, sub, "pause", {"resume_on": date.isoformat()})
    sub.refresh_from_db()
    assert sub.auto_resume_date == date


def test_lines_swap_quantity_add_remove(signed_in, sub):
    line = sub.lines.get()
    other = VariantFactory(shop=sub.shop)
    third = VariantFactory(shop=sub.shop)
    act(signed_in, sub, "swap", {"line": line.pk, "variant": other.pk})
    line.refresh_from_db()
    assert line.variant == other
    act(signed_in, sub, "quantity", {"line": line.pk, "quantity": 3})
    line.refresh_from_db()
    assert line.quantity == 3
    act(signed_in, sub, "add-line", {"variant": third.pk, "quantity": 2})
    assert sub.lines.count() == 2
    act(signed_in, sub, "remove-line", {"line": line.pk})
    assert list(sub.lines.values_list("variant", flat=True)) == [third.pk]
    response = act(signed_in, sub, "remove-line", {"line": sub.lines.get().pk})
    assert "at least one product" in messages_of(response)[0]
    assert sub.lines.count() == 1


def test_swap_to_other_shops_variant_refused(signed_in, sub):
    foreign = VariantFactory()
    response = act(signed_in, sub, "swap", {"line": sub.lines.get().pk, "variant": foreign.pk})
    assert "does not exist in this shop" in messages_of(response)[0]


def test_change_frequency(signed_in, sub):
    weekly = PlanFactory(program=sub.plan.program, name="Weekly", interval_unit="week")
    response = act(signed_in, sub, "frequency", {"plan": weekly.pk})
    sub.refresh_from_db()
    assert sub.plan == weekly and "every week" in messages_of(response)[0]


def test_update_address(signed_in, sub):
    act(signed_in, sub, "address", {"line1": "2 New Rd", "city": "Leeds", "country": "GB"})
    sub.refresh_from_db()
    assert sub.shipping_address.line1 == "2 New Rd"


def test_update_payment_method_keeps_no_card_number(signed_in, sub):
    response = act(
        signed_in, sub, "payment-method", {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2099}
    )
    sub.refresh_from_db()
    method = sub.payment_method
    assert (method.brand, method.last4, method.token, method.exp_year) == (
        "Visa",
        "4242",
        "tok_success",
        2099,
    )
    assert "4242" in messages_of(response)[0]
    bad = act(
        signed_in, sub, "payment-method", {"number": "4242424242424241", "exp_month": 1, "exp_year": 2099}
    )
    assert "not valid" in messages_of(bad)[0]
    sub.refresh_from_db()
    assert sub.payment_method == method


def test_apply_discount(signed_in, sub):
    DiscountCodeFactory(shop=sub.shop, code="SAVE10")
    response = act(signed_in, sub, "discount", {"code": "save10"})
    assert "SAVE10 applied" in messages_of(response)[0]
    response = act(signed_in, sub, "discount", {"code": "nope"})
    assert response.status_code == 400 and messages_of(response) == []
    # The error sits next to the field, with what was typed kept.
    assert response.context["discount_form"].errors["code"] == ["The code NOPE does not exist."]
    page = response.content.decode()
    assert 'value="nope" aria-invalid="true" aria-describedby="code-error"' in page
    assert '<p class="field-error" id="code-error" role="alert">The code NOPE does not exist.</p>' in page


def test_cancel_with_retention_offers(signed_in, sub):
    url = f"/account/subscriptions/{sub.pk}/cancel/"
    offer = signed_in.post(url, {"reason": "too_much_product"})
    assert offer.status_code == 200 and b"Delay by a month" in offer.content
    sub.refresh_from_db()
    assert sub.status == "ACTIVE"
    DiscountCodeFactory(shop=sub.shop, code="STAY20", applies_to=DiscountCode.AppliesTo.SUBSCRIPTION)
    assert b"STAY20" in signed_in.post(url, {"reason": "too_expensive"}).content
    assert b"Swap a product" in signed_in.post(url, {"reason": "want_something_else"}).content

    old = sub.next_billing_date
    act(signed_in, sub, "delay")
    sub.refresh_from_db()
    assert sub.next_billing_date > old

    done = signed_in.post(
        url, {"reason": "too_much_product", "details": "cupboard full", "confirm": "True"}, follow=True
    )
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.CANCELLED and "cupboard full" in sub.cancel_reason
    assert "cancelled" in messages_of(done)[0]
    again = act(signed_in, sub, "skip")
    assert "CANCELLED" in messages_of(again)[0]


def test_cancel_other_reason_cancels_at_once(signed_in, sub):
    signed_in.post(f"/account/subscriptions/{sub.pk}/cancel/", {"reason": "other"})
    sub.refresh_from_db()
    assert sub.status == "CANCELLED"


def test_csrf_enforced(client, customer, sub):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    session = strict.session
    session["portal_customer_id"] = customer.pk
    session["portal_shop_id"] = customer.shop_id
    session.save()
    assert strict.post(f"/account/subscriptions/{sub.pk}/skip/").status_code == 403
    assert not sub.skips.exists()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_query_counts_constant(signed_in, customer):
    first = SubscriptionFactory(customer=customer, lines=1)
    OrderFactory(subscription=first, customer=customer, shop=customer.shop)
    small_overview = _queries(signed_in, "/account/")
    small_page = _queries(signed_in, f"/account/subscriptions/{first.pk}/")
    small_orders = _queries(signed_in, "/account/orders/")
    for _ in range(4):
        SubscriptionFactory(customer=customer, lines=5)
    big = SubscriptionFactory(customer=customer, lines=5)
    for _ in range(4):
        OrderFactory(subscription=big, customer=customer, shop=customer.shop)
    PlanFactory(program=big.plan.program, name="Weekly")
    assert _queries(signed_in, "/account/") == small_overview
    assert _queries(signed_in, f"/account/subscriptions/{big.pk}/") == small_page
    assert _queries(signed_in, "/account/orders/") == small_orders
