"""Vendor API for loyalty: balance, ledger, redeem, referral codes, rewards, and Smartrr's two
loyalty operations (referral-link, orgPoints). Another shop's ids answer 404."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from loyalty import services
from loyalty.models import CustomerBalance, LedgerEntry, Reward
from tests import factories as f
from tests.api.conftest import api, make_key, shop  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(shop):  # noqa: F811
    return f.CustomerFactory(shop=shop, first_name="Ann")


@pytest.fixture
def subscription(customer):
    return f.SubscriptionFactory(customer=customer)


@pytest.fixture
def reward(shop):  # noqa: F811
    return Reward.objects.create(
        shop=shop, name="$5 off", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("5"), points_cost=100
    )


def earn(customer, points):
    services.points_earn(customer=customer, points=points, reason="Order")


def base(customer):
    return f"/vendor/v1/loyalty/customers/{customer.pk}"


def test_balance_and_ledger(api, customer):  # noqa: F811
    assert api.get(f"{base(customer)}/balance").json() == {"customer": customer.pk, "points": 0}
    earn(customer, 30)
    earn(customer, 20)
    assert api.get(f"{base(customer)}/balance").json()["points"] == 50
    page = api.get(f"{base(customer)}/ledger", {"page_size": 1}).json()
    assert [e["points"] for e in page["results"]] == [20]
    assert page["results"][0]["balance_after"] == 50
    second = api.get(page["next"]).json()
    assert [e["points"] for e in second["results"]] == [30]


def test_redeem(api, customer, subscription, reward):  # noqa: F811
    earn(customer, 150)
    response = api.post(
        f"{base(customer)}/redeem", {"reward": reward.pk, "subscription": subscription.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["points"] == 100 and body["balance"] == 50 and body["discount_code"].startswith("PTS-")
    assert CustomerBalance.objects.get(customer=customer).points == 50


def test_redeem_without_enough_points_is_409(api, customer, subscription, reward):  # noqa: F811
    earn(customer, 10)
    response = api.post(
        f"{base(customer)}/redeem", {"reward": reward.pk, "subscription": subscription.pk}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"
    assert CustomerBalance.objects.get(customer=customer).points == 10


def test_redeem_refuses_another_shops_reward_and_another_customers_subscription(
    api,  # noqa: F811
    shop,  # noqa: F811
    customer,
    reward,
):
    earn(customer, 500)
    theirs = Reward.objects.create(
        shop=f.ShopFactory(), name="x", kind=Reward.Kind.PERCENTAGE, value=Decimal("10"), points_cost=1
    )
    own_sub = f.SubscriptionFactory(customer=customer)
    other_customers_sub = f.SubscriptionFactory(customer=f.CustomerFactory(shop=shop))
    url = f"{base(customer)}/redeem"
    response = api.post(url, {"reward": theirs.pk, "subscription": own_sub.pk}, format="json")
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "reward"
    response = api.post(url, {"reward": reward.pk, "subscription": other_customers_sub.pk}, format="json")
    assert response.status_code == 404
    assert api.post(url, {"reward": reward.pk}, format="json").status_code == 400
    assert CustomerBalance.objects.get(customer=customer).points == 500


def test_referral_code_get_then_post(api, customer, shop):  # noqa: F811
    assert api.get(f"{base(customer)}/referral-code").json() == {"code": None, "link": None}
    made = api.post(f"{base(customer)}/referral-code").json()
    assert made["code"].startswith("ANN-")
    assert made["link"] == f"https://{shop.domain}/?ref={made['code']}"
    assert api.get(f"{base(customer)}/referral-code").json() == made
    assert api.post(f"{base(customer)}/referral-code").json() == made


def test_rewards_lists_active_rewards_of_the_shop(api, shop, reward):  # noqa: F811
    Reward.objects.create(
        shop=shop, name="old", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("1"), points_cost=5, active=False
    )
    Reward.objects.create(
        shop=f.ShopFactory(), name="theirs", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("1"), points_cost=5
    )
    results = api.get("/vendor/v1/loyalty/rewards").json()["results"]
    assert [r["name"] for r in results] == ["$5 off"]
    assert results[0]["points_cost"] == 100 and results[0]["value"] == "5.00"


def test_smartrr_referral_link(api, customer):  # noqa: F811
    response = api.get(f"/vendor/customer-relationship/{customer.pk}/referral-link")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] and body["link"].endswith(body["code"])
    again = api.get(f"/vendor/customer-relationship/{customer.pk}/referral-link").json()
    assert again == body


def test_smartrr_org_points_adjusts_with_reason(api, customer):  # noqa: F811
    url = f"/vendor/customer-relationship/{customer.pk}/orgPoints"
    response = api.put(url, {"points": 40, "reason": "Goodwill"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["balance"] == 40
    entry = LedgerEntry.objects.get(customer=customer)
    assert entry.kind == "adjust" and entry.reason.startswith("Goodwill")
    down = api.put(url, {"points": -100, "reason": "Oops"}, format="json")
    assert down.status_code == 409 and down.json()["code"] == "insufficient_points"
    assert api.put(url, {"points": 0, "reason": "x"}, format="json").status_code == 400
    assert api.put(url, {"points": 3}, format="json").status_code == 400
    assert CustomerBalance.objects.get(customer=customer).points == 40


def test_other_shops_customer_is_404(api):  # noqa: F811
    theirs = f.CustomerFactory(shop=f.ShopFactory())
    earn(theirs, 10)
    for method, url in [
        ("get", f"{base(theirs)}/balance"),
        ("get", f"{base(theirs)}/ledger"),
        ("post", f"{base(theirs)}/redeem"),
        ("get", f"{base(theirs)}/referral-code"),
        ("post", f"{base(theirs)}/referral-code"),
        ("get", f"/vendor/customer-relationship/{theirs.pk}/referral-link"),
        ("put", f"/vendor/customer-relationship/{theirs.pk}/orgPoints"),
    ]:
        response = getattr(api, method)(url, {"points": 5, "reason": "x"}, format="json")
        assert response.status_code == 404, (method, url, response.content)
    assert CustomerBalance.objects.get(customer=theirs).points == 10


def test_needs_loyalty_permission(shop, make_key, customer):  # noqa: F811
    _, raw = make_key(shop, {"customers": "write"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    response = client.get(f"{base(customer)}/balance")
    assert response.status_code == 403 and response.json()["code"] == "missing_permission:loyalty"


def test_smartrr_referral_link_with_a_read_only_key_makes_nothing(shop, make_key, customer):  # noqa: F811
    _, raw = make_key(shop, {"loyalty": "read"})
    client = APIClient()
    client.credentials(HTTP_X_SMARTRR_ACCESS_TOKEN=raw)
    url = f"/vendor/customer-relationship/{customer.pk}/referral-link"
    assert client.get(url).json() == {"code": None, "link": None}
    made = services.referral_code_generate(customer=customer)
    assert client.get(url).json()["code"] == made.code
