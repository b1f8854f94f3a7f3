"""The event envelope every destination receives, and the transactional outbox seen from services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from portal.links import subscription_link_target
from subscriptions import services
from subscriptions.models import ActivityLog, Plan, SkippedDate, Subscription
from tests import factories as f
from webhooks.models import OutboxEvent

D = dt.date


@pytest.fixture
def created(shop, customer, actor):
    plan = f.PlanFactory(
        shop=shop,
        discount_type=Plan.DiscountType.PERCENTAGE,
        discount_value=Decimal("12.5"),
        interval_count=2,
    )
    beans = f.VariantFactory(
        shop=shop, sku="BEANS", title="1 kg", price=Decimal("24.00"), product__title="Beans"
    )
    sub = services.subscription_create(customer=customer, plan=plan, lines=[(beans, 2)], actor=actor)
    return sub, OutboxEvent.objects.get(type="subscription.created")


@pytest.mark.django_db
class TestEnvelope:
    def test_envelope_fields(self, shop, created):
        sub, event = created
        envelope = event.payload

        assert set(envelope) == {"id", "type", "version", "occurred_at", "shop", "actor", "data"}
        assert envelope["id"] == str(event.id)
        assert envelope["type"] == "subscription.created"
        assert envelope["version"] == event.version == 1
        assert dt.datetime.fromisoformat(envelope["occurred_at"]) == event.occurred_at
        assert envelope["shop"] == shop.domain
        assert envelope["actor"] == event.actor == "customer"
        assert event.shop_id == shop.pk
        assert event.relayed_at is None

    def test_nested_customer_and_subscription(self, customer, created):
        sub, event = created
        data = event.payload["data"]

        assert data["customer"]["id"] == customer.pk
        assert data["customer"]["email"] == "ada@example.com"
        assert data["customer"]["first_name"] == "Ada"
        assert data["customer"]["subscriber_since"]  # set by this very subscription
        subscription = data["subscription"]
        assert subscription["id"] == sub.pk
        assert subscription["status"] == "ACTIVE"
        assert subscription["next_billing_date"] == "2025-03-15"
        assert subscription["currency"] == "USD"
        assert data["previous"] == {}

    def test_items_carry_product_variant_sku_quantity_and_price_as_decimal_string(self, created):
        _, event = created
        assert event.payload["data"]["subscription"]["items"] == [
            {
                "id": event.payload["data"]["subscription"]["items"][0]["id"],
                "product": "Beans",
                "variant": "1 kg",
                "sku": "BEANS",
                "quantity": 2,
                "price": "21.00",
                "currency": "USD",
            }
        ]
        assert Decimal(event.payload["data"]["subscription"]["items"][0]["price"]) == Decimal("21.00")

    def test_flat_template_fields(self, created):
        sub, event = created
        data = event.payload["data"]

        assert data["first_name"] == "Ada"
        assert data["account_page_link"].startswith("http")
        # The portal turns it into a signed deep link that opens this subscription.
        assert subscription_link_target(data["account_page_link"]) == (sub.customer_id, sub.pk)
        assert data["next_order_date"] == "March 15, 2025"
        assert data["new_delivery_date"] == "March 15, 2025"
        assert data["frequency_unit"] == "month"
        assert data["frequency_interval"] == 2

    def test_dates_follow_the_shops_date_format(self, customer, actor, created):
        sub, _ = created
        shop = sub.shop
        shop.date_format = "%d/%m/%Y"
        shop.save()
        sub = Subscription.objects.get(pk=sub.pk)

        services.subscription_set_next_billing_date(subscription=sub, actor=actor, date=D(2025, 4, 1))

        data = OutboxEvent.objects.get(type="subscription.next_order_date_changed").payload["data"]
        assert data["new_delivery_date"] == "01/04/2025"

    def test_flat_dates_step_over_a_skipped_order_on_every_event(self, customer, actor):
        sub = f.SubscriptionFactory(customer=customer, next_billing_date=D(2025, 2, 10), anchor_day=10)
        services.subscription_skip(subscription=sub, actor=actor)
        OutboxEvent.objects.all().delete()

        services.subscription_pause(subscription=sub, actor=actor)
        services.subscription_activate(subscription=sub, actor=actor)

        data = OutboxEvent.objects.get(type="subscription.activated").payload["data"]
        assert data["new_delivery_date"] == "March 10, 2025"

    def test_each_event_has_its_own_id(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)
        services.subscription_unskip(subscription=subscription, actor=actor)

        ids = [e.payload["id"] for e in OutboxEvent.objects.all()]
        assert len(ids) == len(set(ids)) == 2


@pytest.mark.django_db(transaction=True)
class TestRollback:
    """The change and its event commit together or not at all."""

    def test_outer_transaction_rolled_back_leaves_neither_change_nor_event(self, actor):
        sub = f.SubscriptionFactory(next_billing_date=D(2025, 2, 10))

        with pytest.raises(RuntimeError, match="later step failed"):
            with transaction.atomic():
                services.subscription_skip(subscription=sub, actor=actor)
                services.subscription_pause(subscription=sub, actor=actor)
                assert OutboxEvent.objects.count() == 2
                raise RuntimeError("later step failed")

        sub.refresh_from_db()
        assert sub.status == Subscription.Status.ACTIVE
        assert not SkippedDate.objects.exists()
        assert not ActivityLog.objects.exists()
        assert not OutboxEvent.objects.exists()

    def test_committed_action_keeps_change_and_event(self, actor):
        sub = f.SubscriptionFactory(next_billing_date=D(2025, 2, 10))

        services.subscription_cancel(subscription=sub, actor=actor, reason="Done")

        sub.refresh_from_db()
        assert sub.status == Subscription.Status.CANCELLED
        assert sorted(OutboxEvent.objects.values_list("type", flat=True)) == [
            "customer.deactivated",
            "subscription.canceled",
        ]

    def test_refused_action_inside_an_outer_transaction_leaves_earlier_work_alone(self, actor):
        sub = f.SubscriptionFactory(next_billing_date=D(2025, 2, 10))

        with transaction.atomic():
            services.subscription_skip(subscription=sub, actor=actor)
            with pytest.raises(Exception) as caught:
                services.subscription_activate(subscription=sub, actor=actor)
            assert caught.value.code == "subscription_active"

        assert [e.type for e in OutboxEvent.objects.all()] == ["subscription.skipped"]
        assert SkippedDate.objects.count() == 1
