"""Dunning in the merchant console: the failed-payment filter and columns, "Retry payment now", the
failed-payments summary (constant queries), payment attempts on the order page, and read-only
billing runs and notices."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from subscriptions.models import ActivityLog, BillingRun, Notice, Order, PaymentAttempt
from tests import factories as f

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:subscriptions_order_changelist"


@pytest.fixture
def shop():
    return f.ShopFactory(name="Alpha Coffee")


@pytest.fixture
def staff_client(client, shop):
    client.force_login(f.StaffMembershipFactory(shop=shop, user__username="alice").user)
    return client


def _failed(
    shop, token="tok_success", *, retry=dt.date(2025, 1, 18), attempts=1, reason="The card was declined."
):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer, token=token)
    sub = f.SubscriptionFactory(customer=customer, payment_method=method)
    order = f.OrderFactory(
        subscription=sub,
        status=Order.Status.FAILED,
        paid_at=None,
        attempt_count=attempts,
        next_retry_date=retry,
        failure_reason=reason,
    )
    for number in range(1, attempts + 1):
        PaymentAttempt.objects.create(
            shop=shop,
            order=order,
            number=number,
            idempotency_key=f"k-{order.pk}-{number}",
            amount=order.total,
            currency=order.currency,
            gateway="test",
            status=PaymentAttempt.Status.FAILED,
            error_code="card_declined",
            message=reason,
            finished_at=timezone.now(),
        )
    return order


def _recovered(shop, paid_days_ago=1):
    order = _failed(shop, attempts=2)
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.PAID,
        next_retry_date=None,
        failure_reason="",
        paid_at=timezone.now() - dt.timedelta(days=paid_days_ago),
    )
    return order


def _given_up(shop):
    return _failed(shop, retry=None, attempts=4)


def test_payment_failed_filter_shows_the_retry_columns(staff_client, shop):
    failing = _failed(shop, attempts=2, reason="Insufficient funds")
    _recovered(shop)
    given_up = _given_up(shop)
    f.OrderFactory(shop=shop)  # paid first time
    response = staff_client.get(reverse(CHANGELIST), {"payment_failed": "retrying"})
    assert list(response.context["cl"].result_list) == [failing]
    body = response.content.decode()
    for header in ("Attempt count", "Next retry date", "Failure reason"):
        assert header in body
    assert "Insufficient funds" in body
    assert list(
        staff_client.get(reverse(CHANGELIST), {"payment_failed": "given_up"}).context["cl"].result_list
    ) == [given_up]
    # Without the filter, the list keeps its usual columns.
    assert "Next retry date" not in staff_client.get(reverse(CHANGELIST)).content.decode()


def test_failed_payments_summary(staff_client, shop):
    other = f.ShopFactory()
    _failed(shop)
    _failed(shop)
    _failed(other)  # another shop's orders never count
    for _ in range(3):
        _recovered(shop)
    _recovered(shop, paid_days_ago=45)  # outside the 30 days
    _given_up(shop)
    response = staff_client.get(reverse(CHANGELIST))
    assert response.context["dunning_summary"] == {
        "failing": 2,
        "recovered": 3,
        "given_up": 1,
        "recovery_rate": 75.0,
    }
    body = response.content.decode()
    assert "Failed payments" in body and "recovery rate 75.0%" in body


def test_summary_and_failed_list_run_a_constant_number_of_queries(staff_client, shop):
    url = reverse(CHANGELIST) + "?payment_failed=any"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    _failed(shop)
    _recovered(shop)
    one = count()
    for _ in range(10):
        _failed(shop, attempts=2)
        _recovered(shop)
        _given_up(shop)
    assert count() == one


def test_retry_payment_now_action(staff_client, shop):
    recovers = _failed(shop, token="tok_success")
    declines = _failed(shop, token="tok_declined")
    paid = f.OrderFactory(shop=shop)
    response = staff_client.post(
        reverse(CHANGELIST),
        {"action": "retry_payment_now", "_selected_action": [recovers.pk, declines.pk, paid.pk]},
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"Paid 1 order(s): #{recovers.pk}.",
        f"Payment failed again for 1 order(s): #{declines.pk}.",
        f"Not retried (only a failed payment can be retried): #{paid.pk}.",
    ]
    recovers.refresh_from_db()
    declines.refresh_from_db()
    assert recovers.status == Order.Status.PAID and recovers.attempt_count == 2
    assert declines.status == Order.Status.FAILED and declines.attempt_count == 2
    assert ActivityLog.objects.filter(action="payment_retry", actor_type="admin").count() == 2


def test_retry_action_ignores_other_shops_orders(staff_client, shop):
    theirs = _failed(f.ShopFactory(), token="tok_success")
    staff_client.post(reverse(CHANGELIST), {"action": "retry_payment_now", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.FAILED and theirs.attempt_count == 1


def test_order_page_shows_its_payment_attempts_read_only(staff_client, shop):
    order = _failed(shop, attempts=2, reason="Do not honor")
    response = staff_client.get(reverse("admin:subscriptions_order_change", args=[order.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Payment attempts" in body and "Do not honor" in body and "card_declined" in body
    formset = next(
        fs for fs in response.context["inline_admin_formsets"] if fs.formset.model is PaymentAttempt
    )
    assert len(formset.formset.forms) == 2
    assert not formset.has_add_permission and not formset.has_change_permission


def test_billing_runs_and_notices_are_read_only_and_scoped(staff_client, shop):
    other = f.ShopFactory()
    mine_run = BillingRun.objects.create(shop=shop, run_date=dt.date(2025, 1, 15), charged=4, failed=1)
    BillingRun.objects.create(shop=other, run_date=dt.date(2025, 1, 15))
    sub = f.SubscriptionFactory(shop=shop)
    mine_notice = Notice.objects.create(
        shop=shop, subscription=sub, kind="upcoming_order", date=dt.date(2025, 1, 18)
    )
    Notice.objects.create(
        shop=other,
        subscription=f.SubscriptionFactory(shop=other),
        kind="upcoming_order",
        date=dt.date(2025, 1, 18),
    )
    for url_name, mine in (("subscriptions_billingrun", mine_run), ("subscriptions_notice", mine_notice)):
        response = staff_client.get(reverse(f"admin:{url_name}_changelist"))
        assert list(response.context["cl"].result_list) == [mine]
        assert staff_client.get(reverse(f"admin:{url_name}_add")).status_code == 403
        assert staff_client.post(reverse(f"admin:{url_name}_change", args=[mine.pk]), {}).status_code == 403
