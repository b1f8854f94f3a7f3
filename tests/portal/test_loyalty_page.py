"""The portal's "Points and rewards" page: balance, history, rewards with a Redeem button per
reward (for one of the customer's subscriptions) and the referral link."""

from decimal import Decimal

import pytest
from django.urls import reverse

from loyalty.models import CustomerBalance, Redemption, ReferralCode, Reward
from loyalty.services import points_earn
from tests import factories as f
from tests.portal.conftest import messages_of

pytestmark = pytest.mark.django_db
PAGE = "/account/loyalty/"


@pytest.fixture
def reward(shop):
    return Reward.objects.create(
        shop=shop, name="Five off", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("5"), points_cost=100
    )


def test_signed_out_is_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and reverse("portal:login") in response["Location"]


def test_page_shows_balance_history_rewards_and_is_in_the_navigation(signed_in, customer, sub, reward):
    points_earn(customer=customer, points=120, reason="Order #7")
    response = signed_in.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>120</strong> points" in html
    assert "Order #7" in html and "+120" in html
    assert "Five off" in html and "Redeem" in html
    assert f'<option value="{sub.pk}">' in html
    assert f'href="{PAGE}"' in signed_in.get("/account/").content.decode()


def test_redeem_a_reward_on_a_subscription(signed_in, customer, sub, reward):
    points_earn(customer=customer, points=150, reason="Order")
    response = signed_in.post(
        reverse("portal:loyalty_redeem"), {"reward": reward.pk, "subscription": sub.pk}, follow=True
    )
    redemption = Redemption.objects.get(customer=customer)
    assert redemption.subscription == sub
    assert CustomerBalance.objects.get(customer=customer).points == 50
    assert any(redemption.discount_code.code in m for m in messages_of(response))


def test_redeem_without_enough_points_shows_an_error_and_changes_nothing(signed_in, customer, sub, reward):
    points_earn(customer=customer, points=10, reason="Order")
    response = signed_in.post(
        reverse("portal:loyalty_redeem"), {"reward": reward.pk, "subscription": sub.pk}, follow=True
    )
    assert any("Not enough points" in m for m in messages_of(response))
    assert not Redemption.objects.exists()
    assert CustomerBalance.objects.get(customer=customer).points == 10


def test_redeem_on_someone_elses_subscription_or_reward_is_404(signed_in, customer, shop, sub, reward):
    points_earn(customer=customer, points=500, reason="Order")
    other_sub = f.SubscriptionFactory(customer=f.CustomerFactory(shop=shop))
    theirs = Reward.objects.create(
        shop=f.ShopFactory(), name="x", kind=Reward.Kind.FIXED_AMOUNT, value=Decimal("1"), points_cost=1
    )
    url = reverse("portal:loyalty_redeem")
    assert signed_in.post(url, {"reward": reward.pk, "subscription": other_sub.pk}).status_code == 404
    assert signed_in.post(url, {"reward": theirs.pk, "subscription": sub.pk}).status_code == 404
    assert not Redemption.objects.exists()


def test_referral_link_is_made_on_request_and_shown_copy_friendly(signed_in, customer, shop):
    html = signed_in.get(PAGE).content.decode()
    assert "Get my referral link" in html
    signed_in.post(reverse("portal:loyalty_referral_code"))
    code = ReferralCode.objects.get(customer=customer)
    html = signed_in.get(PAGE).content.decode()
    assert f'value="https://{shop.domain}/?ref={code.code}"' in html and "readonly" in html
