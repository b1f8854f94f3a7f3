"""/vendor/v1/customers: list, filters, ordering, paging, create, update, addresses, payment methods."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from subscriptions.models import ActivityLog, Customer, PaymentMethod
from tests import factories as f

URL = "/vendor/v1/customers"


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
    assert body["status"] == status
    if code:
        assert body["code"] == code
    if field:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


def test_list_is_scoped_to_the_shop_and_shows_counts(api, shop):
    customer = f.CustomerFactory(shop=shop, email="a@example.com")
    f.SubscriptionFactory(customer=customer)
    f.SubscriptionFactory(customer=customer, status="CANCELLED", next_billing_date=None)
    f.CustomerFactory()  # another shop

    response = api.get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["email"] for c in body["results"]] == ["a@example.com"]
    assert body["results"][0]["subscription_count"] == 2
    assert body["results"][0]["active_subscription_count"] == 1
    assert body["next"] is None


def test_filters(api, shop):
    f.CustomerFactory(shop=shop, email="jane@example.com", has_logged_in=True)
    f.CustomerFactory(shop=shop, email="john@example.org")
    old = f.CustomerFactory(shop=shop, email="old@example.org")
    Customer.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=30))

    def emails(query):
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return sorted(c["email"] for c in response.json()["results"])

    assert emails("email=JANE@example.com") == ["jane@example.com"]
    assert emails("email_contains=example.org") == ["john@example.org", "old@example.org"]
    assert emails("has_logged_in=true") == ["jane@example.com"]
    assert emails("has_logged_in=false") == ["john@example.org", "old@example.org"]
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert emails("updated_since=" + since.replace("+", "%2B")) == ["jane@example.com", "john@example.org"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("updated_since=yesterday", "updated_since"),
        ("has_logged_in=yes", "has_logged_in"),
        ("ordering=phone", "ordering"),
        ("page_size=0", "page_size"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_query_parameters_answer_400_naming_them(api, shop, query, field):
    assert_problem(api.get(f"{URL}?{query}"), 400, field=field, code="validation_error")


def test_ordering_and_cursor_paging_visit_every_row_once(api, shop):
    for name in ["c", "a", "e", "b", "d"]:
        f.CustomerFactory(shop=shop, email=f"{name}@example.com")

    seen, url = [], f"{URL}?ordering=email&page_size=2"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        seen += [c["email"] for c in response.json()["results"]]
        url = response.json()["next"]
    assert seen == [f"{n}@example.com" for n in "abcde"]

    response = api.get(f"{URL}?ordering=-email&page_size=50")
    assert [c["email"][0] for c in response.json()["results"]] == list("edcba")


def test_list_runs_a_constant_number_of_queries(api, shop):
    def make(n):
        for _ in range(n):
            customer = f.CustomerFactory(shop=shop)
            f.SubscriptionFactory(customer=customer)

    make(1)
    one = queries_for(api, f"{URL}?page_size=250")
    make(49)
    assert queries_for(api, f"{URL}?page_size=250") == one


def test_retrieve_and_other_shop_is_404(api, shop):
    mine = f.CustomerFactory(shop=shop)
    theirs = f.CustomerFactory()

    response = api.get(f"{URL}/{mine.pk}")
    assert response.status_code == 200
    assert response.json()["id"] == mine.pk

    assert_problem(api.get(f"{URL}/{theirs.pk}"), 404, code="not_found")
    assert_problem(api.patch(f"{URL}/{theirs.pk}", {"first_name": "X"}, format="json"), 404)
    assert_problem(api.get(f"{URL}/{theirs.pk}/addresses"), 404)
    assert_problem(api.post(f"{URL}/{theirs.pk}/payment-methods", {}, format="json"), 404)


def test_create_goes_through_the_service(api, shop):
    response = api.post(URL, {"email": "New@Example.com", "first_name": "Ann"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new@example.com"
    assert body["subscription_count"] == 0
    customer = Customer.objects.get(pk=body["id"], shop=shop)
    log = ActivityLog.objects.get(customer=customer, action="customer_created")
    assert log.actor_type == "api"


def test_create_refusals(api, shop):
    f.CustomerFactory(shop=shop, email="taken@example.com")
    assert_problem(api.post(URL, {"email": "taken@example.com"}, format="json"), 409, "email", "email_taken")
    assert_problem(api.post(URL, {"email": "x@example.com", "nick": "x"}, format="json"), 400, "nick")
    assert_problem(api.post(URL, {"email": "not-an-email"}, format="json"), 400, "email")
    assert_problem(api.post(URL, {"email": "a@example.com", "first_name": 5}, format="json"), 400)


def test_update(api, shop):
    customer = f.CustomerFactory(shop=shop, email="old@example.com", first_name="Old")

    response = api.patch(
        f"{URL}/{customer.pk}", {"first_name": "New", "email": "new@example.com"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "New"
    assert response.json()["email"] == "new@example.com"
    log = ActivityLog.objects.get(customer=customer, action="customer_updated")
    assert set(log.details) == {"first_name", "email"}
    assert_problem(api.patch(f"{URL}/{customer.pk}", {"shop": 3}, format="json"), 400, "shop")


def test_addresses(api, shop):
    customer = f.CustomerFactory(shop=shop)
    f.AddressFactory(customer=customer)

    response = api.post(
        f"{URL}/{customer.pk}/addresses",
        {"line1": "1 Main St", "city": "Springfield", "country": "us"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["country"] == "US"
    assert ActivityLog.objects.filter(customer=customer, action="address_added").exists()

    listed = api.get(f"{URL}/{customer.pk}/addresses")
    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 2

    assert_problem(
        api.post(f"{URL}/{customer.pk}/addresses", {"city": "X", "country": "US"}, format="json"),
        400,
        "line1",
    )


def test_payment_methods_never_show_the_token(api, shop):
    customer = f.CustomerFactory(shop=shop)

    response = api.post(
        f"{URL}/{customer.pk}/payment-methods",
        {
            "gateway": "test",
            "token": "tok_secret",
            "brand": "Visa",
            "last4": "4242",
            "exp_month": 1,
            "exp_year": 2030,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert "token" not in response.json()
    assert PaymentMethod.objects.get(customer=customer).token == "tok_secret"
    assert ActivityLog.objects.filter(customer=customer, action="payment_method_added").exists()
    listed = api.get(f"{URL}/{customer.pk}/payment-methods").json()["results"]
    assert [m["last4"] for m in listed] == ["4242"]
    assert "tok_secret" not in str(listed)
    bad = api.post(f"{URL}/{customer.pk}/payment-methods", {"gateway": "paypal", "token": "t"}, format="json")
    assert_problem(bad, 400, "gateway")


def test_permission_is_the_customers_resource(shop, make_key):
    _, raw = make_key(shop, {"customers": "read"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert client.get(URL).status_code == 200
    assert_problem(client.post(URL, {"email": "a@example.com"}, format="json"), 403)
    _, raw = make_key(shop, {"subscriptions": "write"})
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    assert_problem(client.get(URL), 403)
