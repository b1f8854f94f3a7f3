"""Lifecycle services that change when and whether orders happen: create, skip/unskip, pause,
activate, cancel, set next billing date, send now, gift.

Today is 15 January 2025 (10:00 in New York) for every test; see conftest.
"""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.models import ActivityLog, Gift, Plan, SkippedDate, Subscription, add_interval
from subscriptions.services import next_order_date
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

ACTIVE, PAUSED, CANCELLED = (
    Subscription.Status.ACTIVE,
    Subscription.Status.PAUSED,
    Subscription.Status.CANCELLED,
)
D = dt.date


def event_types() -> list[str]:
    return list(OutboxEvent.objects.order_by("occurred_at").values_list("type", flat=True))


def only_event(type_: str) -> dict:
    assert event_types() == [type_]
    return OutboxEvent.objects.get().payload


# ---------------------------------------------------------------- create


class TestCreate:
    def test_new_subscription_is_active_priced_after_the_plan_discount(self, shop, customer, actor):
        plan = f.PlanFactory(shop=shop, discount_type=Plan.DiscountType.PERCENTAGE, discount_value=10)
        coffee = f.VariantFactory(shop=shop, price=Decimal("20.00"), sku="COFFEE")
        tea = f.VariantFactory(shop=shop, price=Decimal("9.99"), sku="TEA")

        sub = services.subscription_create(
            customer=customer, plan=plan, lines=[(coffee, 2), (tea, 1)], actor=actor
        )

        sub.refresh_from_db()
        assert sub.status == ACTIVE
        assert sub.shop == shop and sub.currency == "USD"
        # Default first order: one interval after today, in the shop's timezone.
        assert sub.next_billing_date == D(2025, 2, 15)
        assert sub.anchor_day == 15
        lines = {line.variant.sku: (line.quantity, line.unit_price) for line in sub.lines.all()}
        assert lines == {"COFFEE": (2, Decimal("18.00")), "TEA": (1, Decimal("8.99"))}

    def test_emits_subscription_created_with_its_items(self, shop, customer, actor):
        plan = f.PlanFactory(shop=shop, discount_type=Plan.DiscountType.FIXED, discount_value=5)
        variant = f.VariantFactory(shop=shop, price=Decimal("20.00"), sku="BEANS-1KG")

        sub = services.subscription_create(customer=customer, plan=plan, lines=[(variant, 3)], actor=actor)

        payload = only_event("subscription.created")
        assert payload["data"]["subscription"]["id"] == sub.pk
        [item] = payload["data"]["subscription"]["items"]
        assert item["sku"] == "BEANS-1KG"
        assert item["quantity"] == 3
        assert item["price"] == "15.00"
        assert item["currency"] == "USD"
        assert item["product"] == variant.product.title
        assert item["variant"] == variant.title
        assert ActivityLog.objects.filter(subscription=sub, action="created").count() == 1

    def test_explicit_first_order_date_sets_the_anchor_day(self, shop, customer, actor):
        plan = f.PlanFactory(shop=shop)
        sub = services.subscription_create(
            customer=customer,
            plan=plan,
            lines=[(f.VariantFactory(shop=shop), 1)],
            actor=actor,
            next_billing_date=D(2025, 1, 31),
        )
        assert (sub.next_billing_date, sub.anchor_day) == (D(2025, 1, 31), 31)
        assert sub.date_after(sub.next_billing_date) == D(2025, 2, 28)

    def test_subscriber_since_is_set_by_the_first_subscription_only(
        self, shop, customer, actor, time_machine
    ):
        assert customer.subscriber_since is None
        plan = f.PlanFactory(shop=shop)
        services.subscription_create(
            customer=customer, plan=plan, lines=[(f.VariantFactory(shop=shop), 1)], actor=actor
        )
        customer.refresh_from_db()
        first = customer.subscriber_since
        assert first is not None and first.date() == D(2025, 1, 15)

        time_machine.move_to(dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC))
        services.subscription_create(
            customer=customer, plan=plan, lines=[(f.VariantFactory(shop=shop), 1)], actor=actor
        )
        customer.refresh_from_db()
        assert customer.subscriber_since == first

    def test_uses_the_customers_own_payment_method_and_address(self, shop, customer, actor):
        method = f.PaymentMethodFactory(customer=customer)
        address = f.AddressFactory(customer=customer)
        sub = services.subscription_create(
            customer=customer,
            plan=f.PlanFactory(shop=shop),
            lines=[(f.VariantFactory(shop=shop), 1)],
            actor=actor,
            payment_method=method,
            shipping_address=address,
        )
        assert (sub.payment_method, sub.shipping_address) == (method, address)

    @pytest.mark.parametrize(
        "case, code",
        [
            ("other_shops_plan", "not_found"),
            ("inactive_plan", "plan_inactive"),
            ("inactive_program", "plan_inactive"),
            ("other_customers_payment_method", "not_found"),
            ("other_customers_address", "not_found"),
            ("no_lines", "no_lines"),
            ("duplicate_variant", "duplicate_line"),
            ("other_shops_variant", "not_found"),
            ("unavailable_variant", "variant_unavailable"),
            ("zero_quantity", "invalid_quantity"),
            ("first_order_today", "date_in_past"),
            ("first_order_in_the_past", "date_in_past"),
        ],
    )
    def test_refusals_create_nothing(self, shop, customer, actor, refused, case, code):
        variant = f.VariantFactory(shop=shop)
        kwargs = {
            "customer": customer,
            "plan": f.PlanFactory(shop=shop),
            "lines": [(variant, 1)],
            "actor": actor,
        }
        if case == "other_shops_plan":
            kwargs["plan"] = f.PlanFactory()
        elif case == "inactive_plan":
            kwargs["plan"] = f.PlanFactory(shop=shop, active=False)
        elif case == "inactive_program":
            kwargs["plan"] = f.PlanFactory(program=f.SubscriptionProgramFactory(shop=shop, active=False))
        elif case == "other_customers_payment_method":
            kwargs["payment_method"] = f.PaymentMethodFactory(shop=shop)
        elif case == "other_customers_address":
            kwargs["shipping_address"] = f.AddressFactory(shop=shop)
        elif case == "no_lines":
            kwargs["lines"] = []
        elif case == "duplicate_variant":
            kwargs["lines"] = [(variant, 1), (variant, 2)]
        elif case == "other_shops_variant":
            kwargs["lines"] = [(f.VariantFactory(), 1)]
        elif case == "unavailable_variant":
            kwargs["lines"] = [(f.VariantFactory(shop=shop, available=False), 1)]
        elif case == "zero_quantity":
            kwargs["lines"] = [(variant, 0)]
        elif case == "first_order_today":
            kwargs["next_billing_date"] = D(2025, 1, 15)
        elif case == "first_order_in_the_past":
            kwargs["next_billing_date"] = D(2024, 12, 1)

        refused(code, services.subscription_create, **kwargs)
        assert not Subscription.objects.filter(customer=customer).exists()


# ---------------------------------------------------------------- skip / unskip


class TestSkip:
    def test_skip_moves_the_next_order_past_the_skipped_date(self, subscription, actor):
        assert next_order_date(subscription) == D(2025, 2, 10)

        services.subscription_skip(subscription=subscription, actor=actor)

        subscription.refresh_from_db()
        assert next_order_date(subscription) == D(2025, 3, 10)
        assert list(subscription.skips.values_list("date", "unskipped_at")) == [(D(2025, 2, 10), None)]
        payload = only_event("subscription.skipped")
        assert payload["data"]["skipped_date"] == "2025-02-10"

    def test_skipped_event_tells_the_customer_the_new_delivery_date(self, subscription, actor):
        """SMS copy: "Your order will be skipped. Your next order will be on {new_delivery_date}"."""
        services.subscription_skip(subscription=subscription, actor=actor)

        data = only_event("subscription.skipped")["data"]
        assert data["new_delivery_date"] == "March 10, 2025"
        assert data["next_order_date"] == "March 10, 2025"

    def test_skipping_again_skips_the_following_order(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)
        services.subscription_skip(subscription=subscription, actor=actor)

        assert next_order_date(subscription) == D(2025, 4, 10)
        assert sorted(subscription.skips.values_list("date", flat=True)) == [D(2025, 2, 10), D(2025, 3, 10)]

    def test_skip_a_later_scheduled_date(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor, date=D(2025, 3, 10))

        assert next_order_date(subscription) == D(2025, 2, 10)
        assert list(subscription.skips.values_list("date", flat=True)) == [D(2025, 3, 10)]

    def test_skipping_the_same_date_twice_is_refused(self, subscription, actor, refused):
        services.subscription_skip(subscription=subscription, actor=actor, date=D(2025, 3, 10))

        error = refused(
            "already_skipped",
            services.subscription_skip,
            subscription=subscription,
            actor=actor,
            date=D(2025, 3, 10),
        )
        assert error.field == "date"
        assert "2025-03-10" in error.message

    @pytest.mark.parametrize(
        "date, code",
        [(D(2025, 2, 11), "not_a_billing_date"), (D(2025, 1, 10), "date_in_past")],
    )
    def test_skip_of_a_date_that_is_not_an_upcoming_order_is_refused(
        self, subscription, actor, refused, date, code
    ):
        refused(code, services.subscription_skip, subscription=subscription, actor=actor, date=date)

    def test_skipping_a_gifted_order_withdraws_the_gift(self, subscription, actor):
        f.GiftFactory(subscription=subscription, billing_date=D(2025, 2, 10))

        services.subscription_skip(subscription=subscription, actor=actor)

        assert not Gift.objects.filter(subscription=subscription).exists()


class TestUnskip:
    def test_unskip_brings_the_order_back(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)
        OutboxEvent.objects.all().delete()

        services.subscription_unskip(subscription=subscription, actor=actor)

        assert next_order_date(subscription) == D(2025, 2, 10)
        skip = SkippedDate.objects.get(subscription=subscription)
        assert skip.unskipped_at is not None  # kept for history
        data = only_event("subscription.unskipped")["data"]
        assert data["unskipped_date"] == "2025-02-10"
        assert data["new_delivery_date"] == "February 10, 2025"

    def test_unskip_of_a_later_date_reports_the_real_next_order(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)
        services.subscription_skip(subscription=subscription, actor=actor)
        OutboxEvent.objects.all().delete()

        services.subscription_unskip(subscription=subscription, actor=actor, date=D(2025, 3, 10))

        assert next_order_date(subscription) == D(2025, 3, 10)
        data = only_event("subscription.unskipped")["data"]
        assert data["new_delivery_date"] == "March 10, 2025"
        assert data["next_order_date"] == "March 10, 2025"

    def test_a_date_can_be_skipped_again_after_unskip(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)
        services.subscription_unskip(subscription=subscription, actor=actor)
        services.subscription_skip(subscription=subscription, actor=actor)

        assert next_order_date(subscription) == D(2025, 3, 10)
        assert subscription.skips.count() == 2

    def test_unskip_without_a_skip_is_refused(self, subscription, actor, refused):
        refused("not_skipped", services.subscription_unskip, subscription=subscription, actor=actor)

    def test_unskip_of_a_date_that_is_not_skipped_is_refused(self, subscription, actor, refused):
        services.subscription_skip(subscription=subscription, actor=actor)
        error = refused(
            "not_skipped",
            services.subscription_unskip,
            subscription=subscription,
            actor=actor,
            date=D(2025, 3, 10),
        )
        assert error.field == "date"


# ---------------------------------------------------------------- pause / activate / cancel


class TestPause:
    def test_pause_without_resume_date(self, subscription, actor):
        services.subscription_pause(subscription=subscription, actor=actor)

        subscription.refresh_from_db()
        assert subscription.status == PAUSED
        assert subscription.paused_at is not None
        assert subscription.auto_resume_date is None
        data = only_event("subscription.paused")["data"]
        assert data["previous"] == {"status": "ACTIVE"}
        assert data["subscription"]["status"] == "PAUSED"
        assert data["auto_resume_date"] == ""

    def test_pause_until_a_date(self, subscription, actor):
        services.subscription_pause(subscription=subscription, actor=actor, resume_on=D(2025, 4, 1))

        subscription.refresh_from_db()
        assert (subscription.status, subscription.auto_resume_date) == (PAUSED, D(2025, 4, 1))
        assert only_event("subscription.paused")["data"]["auto_resume_date"] == "2025-04-01"

    @pytest.mark.parametrize("resume_on", [D(2025, 1, 14), D(2025, 1, 15)], ids=["past", "today"])
    def test_resume_date_not_in_the_future_is_refused(self, subscription, actor, refused, resume_on):
        error = refused(
            "date_in_past",
            services.subscription_pause,
            subscription=subscription,
            actor=actor,
            resume_on=resume_on,
        )
        assert error.field == "resume_on"


class TestActivate:
    def paused(self, customer, next_billing_date, anchor_day, **kwargs):
        return f.SubscriptionFactory(
            customer=customer,
            status=PAUSED,
            paused_at=dt.datetime(2024, 10, 1, tzinfo=dt.UTC),
            next_billing_date=next_billing_date,
            anchor_day=anchor_day,
            **kwargs,
        )

    def test_next_order_date_still_ahead_is_kept(self, customer, actor):
        sub = self.paused(customer, D(2025, 2, 10), 10, auto_resume_date=D(2025, 3, 1))

        services.subscription_activate(subscription=sub, actor=actor)

        sub.refresh_from_db()
        assert sub.status == ACTIVE
        assert sub.next_billing_date == D(2025, 2, 10)
        assert (sub.paused_at, sub.auto_resume_date) == (None, None)
        data = only_event("subscription.activated")["data"]
        assert data["previous"] == {"status": "PAUSED", "next_billing_date": "2025-02-10"}
        assert data["new_delivery_date"] == "February 10, 2025"

    @pytest.mark.parametrize(
        "paused_date, anchor, expected",
        [
            (D(2024, 12, 10), 10, D(2025, 2, 10)),  # Dec 10 and Jan 10 passed during the pause
            (D(2024, 11, 30), 30, D(2025, 1, 30)),  # Dec 30 passed; Jan 30 is ahead
            (D(2025, 1, 15), 15, D(2025, 2, 15)),  # due today: not billed retroactively
        ],
    )
    def test_next_order_date_passed_during_the_pause_rolls_forward(
        self, customer, actor, paused_date, anchor, expected
    ):
        sub = self.paused(customer, paused_date, anchor)

        services.subscription_activate(subscription=sub, actor=actor)

        sub.refresh_from_db()
        assert sub.next_billing_date == expected
        assert sub.anchor_day == anchor

    def test_activate_on_an_explicit_date(self, customer, actor):
        sub = self.paused(customer, D(2024, 12, 10), 10)

        services.subscription_activate(subscription=sub, actor=actor, next_billing_date=D(2025, 1, 20))

        sub.refresh_from_db()
        assert (sub.status, sub.next_billing_date, sub.anchor_day) == (ACTIVE, D(2025, 1, 20), 20)
        assert sub.date_after(sub.next_billing_date) == D(2025, 2, 20)

    def test_explicit_date_in_the_past_is_refused(self, customer, actor, refused):
        sub = self.paused(customer, D(2024, 12, 10), 10)
        refused(
            "date_in_past",
            services.subscription_activate,
            subscription=sub,
            actor=actor,
            next_billing_date=D(2025, 1, 1),
        )


class TestCancel:
    def test_reason_is_stored(self, subscription, actor):
        f.SubscriptionFactory(customer=subscription.customer)  # keeps the customer active

        services.subscription_cancel(subscription=subscription, actor=actor, reason="  Too much coffee ")

        subscription.refresh_from_db()
        assert subscription.status == CANCELLED
        assert subscription.cancel_reason == "Too much coffee"
        assert subscription.cancelled_at is not None
        data = only_event("subscription.canceled")["data"]
        assert data["cancel_reason"] == "Too much coffee"
        assert data["previous"] == {"status": "ACTIVE"}
        assert ActivityLog.objects.get(subscription=subscription).details == {"reason": "Too much coffee"}

    def test_cancelling_the_last_live_subscription_deactivates_the_customer(self, subscription, actor):
        f.SubscriptionFactory(customer=subscription.customer, status=CANCELLED)

        services.subscription_cancel(subscription=subscription, actor=actor, reason="Moving")

        assert event_types() == ["subscription.canceled", "customer.deactivated"]
        deactivated = OutboxEvent.objects.get(type="customer.deactivated").payload["data"]
        assert deactivated["customer"]["email"] == "ada@example.com"
        assert deactivated["last_subscription_id"] == subscription.pk
        # The subscription's own log row, plus one on the customer's timeline.
        assert ActivityLog.objects.filter(subscription=subscription).count() == 1
        assert ActivityLog.objects.filter(
            customer=subscription.customer, subscription=None, action="customer_deactivated"
        ).exists()

    @pytest.mark.parametrize("other_status", [ACTIVE, PAUSED])
    def test_customer_stays_active_while_another_subscription_is_live(
        self, subscription, actor, other_status
    ):
        f.SubscriptionFactory(customer=subscription.customer, status=other_status)

        services.subscription_cancel(subscription=subscription, actor=actor)

        assert event_types() == ["subscription.canceled"]

    def test_another_customers_subscription_does_not_keep_this_one_active(self, subscription, actor):
        f.SubscriptionFactory(shop=subscription.shop)

        services.subscription_cancel(subscription=subscription, actor=actor)

        assert event_types() == ["subscription.canceled", "customer.deactivated"]

    def test_cancelling_a_paused_subscription_clears_its_auto_resume(self, customer, actor):
        sub = f.SubscriptionFactory(customer=customer, status=PAUSED, auto_resume_date=D(2025, 3, 1))

        services.subscription_cancel(subscription=sub, actor=actor)

        sub.refresh_from_db()
        assert (sub.status, sub.auto_resume_date) == (CANCELLED, None)

    def test_overlong_reason_is_refused(self, subscription, actor, refused):
        refused(
            "reason_too_long",
            services.subscription_cancel,
            subscription=subscription,
            actor=actor,
            reason="x" * 501,
        )


# ---------------------------------------------------------------- next billing date / send now


class TestSetNextBillingDate:
    def test_moves_the_next_order_and_the_schedule_after_it(self, subscription, actor):
        services.subscription_set_next_billing_date(
            subscription=subscription, actor=actor, date=D(2025, 2, 20)
        )

        subscription.refresh_from_db()
        assert subscription.next_billing_date == D(2025, 2, 20)
        assert subscription.date_after(subscription.next_billing_date) == D(2025, 3, 20)
        data = only_event("subscription.next_order_date_changed")["data"]
        assert data["previous"] == {"next_billing_date": "2025-02-10"}
        assert data["new_delivery_date"] == "February 20, 2025"

    @pytest.mark.parametrize("date", [D(2025, 1, 14), D(2025, 1, 15)], ids=["past", "today"])
    def test_past_or_today_is_refused(self, subscription, actor, refused, date):
        error = refused(
            "date_in_past",
            services.subscription_set_next_billing_date,
            subscription=subscription,
            actor=actor,
            date=date,
        )
        assert error.field == "date"
        assert "2025-01-15" in error.message  # tells the customer what "today" is

    def test_same_date_is_refused(self, subscription, actor, refused):
        refused(
            "unchanged",
            services.subscription_set_next_billing_date,
            subscription=subscription,
            actor=actor,
            date=D(2025, 2, 10),
        )

    def test_not_a_date_is_refused(self, subscription, actor, refused):
        refused(
            "invalid_date",
            services.subscription_set_next_billing_date,
            subscription=subscription,
            actor=actor,
            date="2025-03-01",
        )

    def test_skips_before_the_new_date_are_voided(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)  # Feb 10
        services.subscription_skip(subscription=subscription, actor=actor, date=D(2025, 4, 10))

        services.subscription_set_next_billing_date(
            subscription=subscription, actor=actor, date=D(2025, 3, 10)
        )

        subscription.refresh_from_db()
        live = set(subscription.skips.filter(unskipped_at__isnull=True).values_list("date", flat=True))
        assert live == {D(2025, 4, 10)}
        assert next_order_date(subscription) == D(2025, 3, 10)


class TestSendNow:
    """Send now bills at the shop's next billing run: today before the billing time, else tomorrow
    (in the shop's timezone). The shop bills at 09:00."""

    @pytest.mark.parametrize(
        "tz, utc_now, run_date",
        [
            ("America/New_York", dt.datetime(2025, 1, 15, 13, 59), D(2025, 1, 15)),  # 08:59 local
            ("America/New_York", dt.datetime(2025, 1, 15, 14, 0), D(2025, 1, 16)),  # 09:00 local
            ("America/New_York", dt.datetime(2025, 1, 16, 4, 30), D(2025, 1, 16)),  # 23:30 on the 15th
            ("Pacific/Auckland", dt.datetime(2025, 1, 15, 19, 59), D(2025, 1, 16)),  # 08:59 on the 16th
            ("Pacific/Auckland", dt.datetime(2025, 1, 15, 20, 0), D(2025, 1, 17)),  # 09:00 on the 16th
        ],
    )
    def test_next_billing_date_becomes_the_next_billing_run(self, actor, tz, utc_now, run_date):
        shop = f.ShopFactory(timezone=tz, billing_time=dt.time(9, 0))
        sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 2, 10), anchor_day=10)

        with time_machine.travel(utc_now.replace(tzinfo=dt.UTC), tick=False):
            assert shop.next_billing_run_date() == run_date
            services.subscription_send_now(subscription=sub, actor=actor)

        sub.refresh_from_db()
        assert sub.next_billing_date == run_date
        assert sub.anchor_day == run_date.day  # later renewals follow from the order sent now
        assert sub.date_after(run_date) == add_interval(run_date, "month", 1)
        data = only_event("subscription.send_now")["data"]
        assert data["previous"] == {"next_billing_date": "2025-02-10"}

    def test_already_due_at_the_next_run_is_refused(self, shop, actor, refused):
        sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 16))  # after 09:00 today
        refused("already_due", services.subscription_send_now, subscription=sub, actor=actor)

    def test_a_skipped_order_at_the_next_run_is_sent_after_all(self, shop, actor):
        sub = f.SubscriptionFactory(shop=shop, next_billing_date=D(2025, 1, 16), anchor_day=16)
        f.SkippedDateFactory(subscription=sub)

        services.subscription_send_now(subscription=sub, actor=actor)

        assert next_order_date(sub) == D(2025, 1, 16)
        assert not sub.skips.filter(unskipped_at__isnull=True).exists()


# ---------------------------------------------------------------- gift


GIFT = {
    "recipient_first_name": "Grace",
    "recipient_last_name": "Hopper",
    "recipient_email": "grace@example.com",
    "message": "Happy birthday",
    "line1": "1 Navy Yard",
    "city": "Arlington",
    "country": "us",
}


class TestGift:
    def test_next_order_is_gifted_to_the_recipient(self, subscription, actor):
        gift = services.subscription_gift(subscription=subscription, actor=actor, **GIFT)

        gift.refresh_from_db()
        assert gift.billing_date == D(2025, 2, 10)
        assert (gift.recipient_first_name, gift.recipient_last_name) == ("Grace", "Hopper")
        assert (gift.line1, gift.city, gift.country) == ("1 Navy Yard", "Arlington", "US")
        data = only_event("subscription.gifted")["data"]
        assert data["gift"] == {
            "billing_date": "2025-02-10",
            "recipient_first_name": "Grace",
            "recipient_last_name": "Hopper",
            "recipient_email": "grace@example.com",
            "message": "Happy birthday",
        }

    def test_gift_goes_to_the_next_order_not_a_skipped_one(self, subscription, actor):
        services.subscription_skip(subscription=subscription, actor=actor)

        gift = services.subscription_gift(subscription=subscription, actor=actor, **GIFT)

        assert gift.billing_date == D(2025, 3, 10)

    def test_one_gift_per_order(self, subscription, actor, refused):
        services.subscription_gift(subscription=subscription, actor=actor, **GIFT)
        refused("already_gifted", services.subscription_gift, subscription=subscription, actor=actor, **GIFT)

    @pytest.mark.parametrize(
        "override, code",
        [
            ({"recipient_first_name": "  "}, "required"),
            ({"line1": ""}, "required"),
            ({"city": ""}, "required"),
            ({"country": "USA"}, "invalid_country"),
            ({"country": ""}, "invalid_country"),
        ],
    )
    def test_incomplete_recipient_is_refused(self, subscription, actor, refused, override, code):
        refused(
            code, services.subscription_gift, subscription=subscription, actor=actor, **{**GIFT, **override}
        )


def test_system_actor_is_recorded(subscription):
    services.subscription_pause(subscription=subscription, actor=Actor.system())
    log = ActivityLog.objects.get(subscription=subscription)
    assert (log.actor_type, log.actor_name) == ("system", "")
