"""Two redemptions racing for the same points: one wins, the other is refused, the balance never
goes negative. Real threads and real transactions; on SQLite writers take turns and a refused one
retries its whole transaction, on PostgreSQL the balance row lock makes the second wait."""

import threading

import pytest
from django.db import connection

from loyalty import services
from loyalty.models import CustomerBalance, LedgerEntry, Redemption, Reward
from subscriptions.errors import DomainError
from subscriptions.services.common import retry_when_locked
from tests import factories as f


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_redemptions_for_the_same_points_one_wins():
    sub = f.SubscriptionFactory()
    reward = Reward.objects.create(
        shop=sub.shop, name="$5 off", kind="fixed_amount", value=5, points_cost=100
    )
    services.points_earn(customer=sub.customer, points=150, reason="x")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem():
        try:
            start.wait(10)
            retry_when_locked(services.reward_redeem, customer=sub.customer, reward=reward, subscription=sub)
            outcomes.append("redeemed")
        except DomainError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # reported by the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sorted(outcomes) == ["insufficient_points", "redeemed"]
    assert CustomerBalance.objects.get(customer=sub.customer).points == 50
    assert LedgerEntry.objects.filter(kind="redeem").count() == 1
    assert Redemption.objects.count() == 1
