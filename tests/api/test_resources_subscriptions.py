"""/vendor/v1/subscriptions: list, filters, paging, create, retrieve, and the lifecycle actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscriptions.models import ActivityLog, Gift, SkippedDate, Subscription, SubscriptionLine
from tests import factories as f
from webhooks.models import OutboxEvent

URL = "/vendor/v1/subscriptions"


def queries_for(api, url) -> int:
    api.get(url)  # warm up: key last-used stamp, rate-limit bucket
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def assert_problem(response, status: int, field: str | None = None, code: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    if code:
        assert body["code"] == code, body
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def act(api, subscription, action, data=None):
    return api.post(f"{URL}/{subscription.pk}/actions/{action}", data or {}, format="json")


def events(subscription, type_):
    return OutboxEvent.objects.filter(shop_id=subscription.shop_id, type=type_)


@pytest.fixture
def sub(shop):
    variant = f.VariantFactory(shop=shop, price=Decimal("12.50"))
    return f.SubscriptionFactory(shop=shop, lines=[variant], lines__quantity=2)


def test_retrieve_shows_lines_money_and_related(api, sub):
    response = api.get(f"{URL}/{sub.pk}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ACTIVE"
    assert body["customer"]["email"] == sub.customer.email
    assert body["plan"]["program_id"] == sub.plan.program_id
    assert body["currency"] == "USD"
    assert body["total"] == "25.00"
    line = body["lines"][0]
    assert (line["unit_price"], line["total"], line["quantity"], line["currency"]) == (
        "12.50",
        "25.00",
        2,
        "USD",
    )
    assert body["next_billing_date"] == sub.next_billing_date.isoformat()
    assert body["next_order_date"] == sub.next_billing_date.isoformat()
    assert body["payment_method"]["last4"] == "4242"
    assert "token" not in body["payment_method"]
    assert body["shipping_address"]["country"] == "US"
    assert body["discounts"] == []


def test_other_shop_is_404_everywhere(api, shop):
    theirs = f.SubscriptionFactory()
    assert_problem(api.get(f"{URL}/{theirs.pk}"), 404, code="not_found")
    assert_problem(act(api, theirs, "skip"), 404, code="not_found")
    assert not SkippedDate.objects.exists()
    assert [s["id"] for s in api.get(URL).json()["results"]] == []


def test_filters(api, shop):
    today = timezone.localdate()
    program = f.SubscriptionProgramFactory(shop=shop)
    jane = f.CustomerFactory(shop=shop, email="jane@example.com")
    soon = f.SubscriptionFactory(customer=jane, next_billing_date=today + dt.timedelta(days=3))
    later = f.SubscriptionFactory(
        shop=shop, next_billing_date=today + dt.timedelta(days=40), plan=f.PlanFactory(program=program)
    )
    paused = f.SubscriptionFactory(shop=shop, status="PAUSED")
    Subscription.objects.filter(pk=paused.pk).update(updated_at=timezone.now() - dt.timedelta(days=10))

    def ids(query):
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return {s["id"] for s in response.json()["results"]}

    assert ids("status=PAUSED") == {paused.pk}
    assert ids(f"customer={jane.pk}") == {soon.pk}
    assert ids("email=JANE@example.com") == {soon.pk}
    assert ids(f"program={program.pk}") == {later.pk}
    assert ids(f"next_billing_date_before={(today + dt.timedelta(days=5)).isoformat()}") == {soon.pk}
    assert ids(f"next_billing_date_after={(today + dt.timedelta(days=30)).isoformat()}") == {later.pk}
    assert ids(f"updated_since={(today - dt.timedelta(days=1)).isoformat()}") == {soon.pk, later.pk}


@pytest.mark.parametrize(
    "query, field",
    [
        ("next_billing_date_after=2025-13-45", "next_billing_date_after"),
        ("status=active", "status"),
        ("customer=abc", "customer"),
        ("ordering=next_billing_date", "ordering"),
    ],
)
def test_bad_filters_answer_400(api, shop, query, field):
    assert_problem(api.get(f"{URL}?{query}"), 400, field=field, code="validation_error")


def test_paging_across_pages_in_creation_order(api, shop):
    start = timezone.now() - dt.timedelta(days=10)
    made = [f.SubscriptionFactory(shop=shop, created_at=start + dt.timedelta(hours=i)) for i in range(5)]
    # Two share a creation time: the id breaks the tie, nothing is lost or repeated.
    Subscription.objects.filter(pk=made[3].pk).update(created_at=made[2].created_at)

    seen, url = [], f"{URL}?ordering=created_at&page_size=2"
    while url:
        page = api.get(url).json()
        seen += [s["id"] for s in page["results"]]
        url = page["next"]
    assert seen == [s.pk for s in made]


def test_list_runs_a_constant_number_of_queries(api, shop):
    def make(n):
        for _ in range(n):
            sub = f.SubscriptionFactory(shop=shop, lines=2)
            f.SkippedDateFactory(subscription=sub)
            f.SubscriptionDiscountFactory(subscription=sub)

    make(1)
    one = queries_for(api, f"{URL}?page_size=250")
    make(49)
    assert queries_for(api, f"{URL}?page_size=250") == one


def test_create_through_the_service(api, shop):
    customer = f.CustomerFactory(shop=shop)
    method = f.PaymentMethodFactory(customer=customer)
    address = f.AddressFactory(customer=customer)
    plan = f.PlanFactory(shop=shop)
    a, b = f.VariantFactory(shop=shop), f.VariantFactory(shop=shop)
    date = timezone.localdate() + dt.timedelta(days=7)

    response = api.post(
        URL,
        {
            "customer": customer.pk,
            "plan": plan.pk,
            "lines": [{"variant": a.pk, "quantity": 2}, {"variant": b.pk}],
            "payment_method": method.pk,
            "shipping_address": address.pk,
            "next_billing_date": date.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["next_billing_date"] == date.isoformat()
    assert [(line["variant_id"], line["quantity"]) for line in body["lines"]] == [(a.pk, 2), (b.pk, 1)]
    subscription = Subscription.objects.get(pk=body["id"], shop=shop)
    assert ActivityLog.objects.filter(subscription=subscription, action="created", actor_type="api").exists()
    assert events(subscription, "subscription.created").count() == 1


def test_create_refusals(api, shop):
    customer = f.CustomerFactory(shop=shop)
    plan = f.PlanFactory(shop=shop)
    variant = f.VariantFactory(shop=shop)
    other_plan = f.PlanFactory()
    ok = {"customer": customer.pk, "plan": plan.pk, "lines": [{"variant": variant.pk}]}

    assert_problem(api.post(URL, {**ok, "colour": "red"}, format="json"), 400, "colour")
    assert_problem(api.post(URL, {**ok, "plan": "monthly"}, format="json"), 400, "plan")
    assert_problem(
        api.post(URL, {**ok, "next_billing_date": "tomorrow"}, format="json"), 400, "next_billing_date"
    )
    assert_problem(api.post(URL, {**ok, "lines": []}, format="json"), 400, "lines")
    assert_problem(api.post(URL, {**ok, "plan": other_plan.pk}, format="json"), 404, "plan", "not_found")
    past = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    assert_problem(
        api.post(URL, {**ok, "next_billing_date": past}, format="json"),
        409,
        "next_billing_date",
        "date_in_past",
    )
    other_method = f.PaymentMethodFactory(shop=shop)  # another customer's card in the same shop
    assert_problem(
        api.post(URL, {**ok, "payment_method": other_method.pk}, format="json"), 404, "payment_method"
    )
    assert not Subscription.objects.exists()


def test_skip_and_unskip(api, sub):
    response = act(api, sub, "skip")
    assert response.status_code == 200, response.content
    assert response.json()["skipped_dates"] == [sub.next_billing_date.isoformat()]
    assert response.json()["next_order_date"] > sub.next_billing_date.isoformat()
    assert events(sub, "subscription.skipped").count() == 1

    response = act(api, sub, "unskip", {"date": sub.next_billing_date.isoformat()})
    assert response.status_code == 200, response.content
    assert response.json()["skipped_dates"] == []
    assert events(sub, "subscription.unskipped").count() == 1
    assert list(
        ActivityLog.objects.filter(subscription=sub).values_list("action", flat=True).order_by("id")
    ) == [
        "skipped",
        "unskipped",
    ]


def test_pause_activate_cancel(api, sub):
    resume = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = act(api, sub, "pause", {"resume_on": resume})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["auto_resume_date"]) == ("PAUSED", resume)

    assert_problem(act(api, sub, "pause"), 409, "status", "subscription_paused")

    assert act(api, sub, "activate").json()["status"] == "ACTIVE"
    response = act(api, sub, "cancel", {"reason": "Too much coffee"})
    assert (response.json()["status"], response.json()["cancel_reason"]) == ("CANCELLED", "Too much coffee")
    for type_ in (
        "subscription.paused",
        "subscription.activated",
        "subscription.canceled",
        "customer.deactivated",
    ):
        assert events(sub, type_).count() == 1, type_


def test_dates_send_now_and_gift(api, sub):
    date = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    response = act(api, sub, "set-next-billing-date", {"date": date})
    assert response.status_code == 200, response.content
    assert response.json()["next_billing_date"] == date
    assert events(sub, "subscription.next_order_date_changed").count() == 1
    assert_problem(act(api, sub, "set-next-billing-date", {}), 400, "date")
    assert_problem(act(api, sub, "set-next-billing-date", {"date": "20-01-2030"}), 400, "date")

    response = act(
        api,
        sub,
        "gift",
        {"recipient_first_name": "Bo", "line1": "1 Road", "city": "Town", "country": "GB", "message": "Hi"},
    )
    assert response.status_code == 200, response.content
    assert Gift.objects.get(subscription=sub).recipient_first_name == "Bo"
    assert events(sub, "subscription.gifted").count() == 1

    response = act(api, sub, "send-now")
    assert response.status_code == 200, response.content
    assert response.json()["next_billing_date"] == sub.shop.next_billing_run_date().isoformat()
    assert events(sub, "subscription.send_now").count() == 1
    assert_problem(act(api, sub, "send-now", {"when": "now"}), 400, "when")


def test_lines_and_plan(api, shop, sub):
    line = sub.lines.get()
    other = f.VariantFactory(shop=shop, price=Decimal("8.00"))
    third = f.VariantFactory(shop=shop)

    response = act(api, sub, "swap-variant", {"line": line.pk, "variant": other.pk})
    assert response.status_code == 200, response.content
    assert response.json()["lines"][0]["sku"] == other.sku

    response = act(api, sub, "change-quantity", {"line": line.pk, "quantity": 5})
    assert response.json()["lines"][0]["quantity"] == 5
    assert_problem(
        act(api, sub, "change-quantity", {"line": line.pk, "quantity": 5}), 409, "quantity", "unchanged"
    )
    assert_problem(act(api, sub, "change-quantity", {"line": line.pk, "quantity": "lots"}), 400, "quantity")

    response = act(api, sub, "add-line", {"variant": third.pk, "quantity": 1})
    assert len(response.json()["lines"]) == 2
    response = act(api, sub, "remove-line", {"line": line.pk})
    assert [x["variant_id"] for x in response.json()["lines"]] == [third.pk]
    last = SubscriptionLine.objects.get(subscription=sub)
    assert_problem(act(api, sub, "remove-line", {"line": last.pk}), 409, "line", "last_line")
    assert_problem(act(api, sub, "add-line", {"variant": f.VariantFactory().pk}), 404, "variant", "not_found")

    weekly = f.PlanFactory(shop=shop, program=sub.plan.program, name="Weekly", interval_unit="week")
    response = act(api, sub, "change-plan", {"plan": weekly.pk})
    assert response.json()["plan"]["name"] == "Weekly"
    actions = set(ActivityLog.objects.filter(subscription=sub).values_list("action", flat=True))
    assert {
        "variant_swapped",
        "quantity_changed",
        "line_added",
        "line_removed",
        "frequency_changed",
    } <= actions


def test_address_payment_method_and_discounts(api, shop, sub):
    response = act(
        api, sub, "update-shipping-address", {"line1": "9 New St", "city": "Paris", "country": "fr"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["shipping_address"]["line1"] == "9 New St"
    assert_problem(act(api, sub, "update-shipping-address", {"line1": "x", "city": "y"}), 400, "country")

    card = f.PaymentMethodFactory(customer=sub.customer, last4="1111")
    response = act(api, sub, "update-payment-method", {"payment_method": card.pk})
    assert response.json()["payment_method"]["last4"] == "1111"
    assert events(sub, "subscription.payment_method_updated").count() == 1

    code = f.DiscountCodeFactory(shop=shop, code="SAVE10")
    response = act(api, sub, "apply-discount", {"code": "save10"})
    assert response.status_code == 200, response.content
    assert [(d["code"], d["value"]) for d in response.json()["discounts"]] == [("SAVE10", "10.00")]
    assert_problem(act(api, sub, "apply-discount", {"code": "SAVE10"}), 409, "code", "already_applied")
    assert_problem(act(api, sub, "apply-discount", {"code": "NOPE"}), 409, "code", "invalid_code")
    response = act(api, sub, "remove-discount", {"code": "SAVE10"})
    assert response.json()["discounts"] == []
    code.refresh_from_db()
    assert code.times_used == 1


def test_actions_need_subscriptions_write(shop, make_key, sub):
    from rest_framework.test import APIClient

    _, raw = make_key(shop, {"subscriptions": "read", "customers": "write"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert client.get(f"{URL}/{sub.pk}").status_code == 200
    assert_problem(act(client, sub, "skip"), 403)
    assert not SkippedDate.objects.exists()


@pytest.mark.parametrize("action", ["send-now", "skip", "cancel"])
def test_action_bodies_must_be_json_objects(api, sub, action):
    url = f"{URL}/{sub.pk}/actions/{action}"
    assert_problem(api.post(url, "[]", content_type="application/json"), 400)
    assert_problem(api.post(url, "{not json", content_type="application/json"), 400)
    assert api.post(url, "reason=x", content_type="application/x-www-form-urlencoded").status_code == 415
    assert api.post(url).status_code == 200  # no body at all is an empty object
