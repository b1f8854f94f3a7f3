"""Lifecycle services that change what is shipped, where, and how it is paid: swap variant, change
quantity, add/remove line, change plan, shipping address, payment method, discount codes.

By design only the payment method change emits a catalogue event; the others are logged only.
"""

import datetime as dt
from decimal import Decimal

import pytest

from subscriptions import services
from subscriptions.models import ActivityLog, Address, DiscountCode, Plan, SubscriptionDiscount
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def plan(shop):
    return f.PlanFactory(shop=shop, discount_type=Plan.DiscountType.PERCENTAGE, discount_value=10)


@pytest.fixture
def sub(customer, plan):
    """ACTIVE, 10% plan discount, one line of 2 × COFFEE at 20.00 (18.00 after the discount)."""
    coffee = f.VariantFactory(shop=customer.shop, sku="COFFEE", price=Decimal("20.00"))
    return f.SubscriptionFactory(
        customer=customer, plan=plan, lines=[coffee], lines__quantity=2, next_billing_date=D(2025, 2, 10)
    )


@pytest.fixture
def line(sub):
    return sub.lines.get()


def assert_logged_without_event(sub, action: str) -> ActivityLog:
    assert not OutboxEvent.objects.exists()
    log = ActivityLog.objects.get(subscription=sub)
    assert log.action == action
    return log


class TestSwapVariant:
    def test_line_gets_the_new_variant_priced_by_the_plan(self, sub, line, actor):
        decaf = f.VariantFactory(shop=sub.shop, sku="DECAF", price=Decimal("30.00"))

        services.subscription_swap_variant(subscription=sub, actor=actor, line=line, variant=decaf)

        line.refresh_from_db()
        assert (line.variant, line.quantity, line.unit_price) == (decaf, 2, Decimal("27.00"))
        log = assert_logged_without_event(sub, "variant_swapped")
        assert log.details == {"from": "COFFEE", "to": "DECAF"}

    def test_line_may_be_given_by_id(self, sub, line, actor):
        decaf = f.VariantFactory(shop=sub.shop)
        services.subscription_swap_variant(subscription=sub, actor=actor, line=line.pk, variant=decaf)
        line.refresh_from_db()
        assert line.variant == decaf

    def test_other_shops_variant_is_not_found(self, sub, line, actor, refused):
        elsewhere = f.VariantFactory()
        error = refused(
            "not_found",
            services.subscription_swap_variant,
            subscription=sub,
            actor=actor,
            line=line,
            variant=elsewhere,
        )
        assert error.field == "variant"
        assert str(elsewhere.sku) not in error.message  # nothing of the other shop leaks

    @pytest.mark.parametrize(
        "state",
        [{"available": False}, {"archived": True}, {"inventory": 0}],
        ids=["unavailable", "archived", "out_of_stock"],
    )
    def test_variant_that_cannot_be_ordered_is_refused(self, sub, line, actor, refused, state):
        variant = f.VariantFactory(shop=sub.shop, **state)
        refused(
            "variant_unavailable",
            services.subscription_swap_variant,
            subscription=sub,
            actor=actor,
            line=line,
            variant=variant,
        )

    def test_same_variant_is_refused(self, sub, line, actor, refused):
        refused(
            "unchanged",
            services.subscription_swap_variant,
            subscription=sub,
            actor=actor,
            line=line,
            variant=line.variant,
        )

    def test_variant_already_on_another_line_is_refused(self, sub, line, actor, refused):
        other = f.SubscriptionLineFactory(subscription=sub)
        refused(
            "duplicate_line",
            services.subscription_swap_variant,
            subscription=sub,
            actor=actor,
            line=line,
            variant=other.variant,
        )

    def test_line_of_another_subscription_is_not_found(self, sub, actor, refused):
        foreign_line = f.SubscriptionFactory(shop=sub.shop).lines.get()
        refused(
            "not_found",
            services.subscription_swap_variant,
            subscription=sub,
            actor=actor,
            line=foreign_line,
            variant=f.VariantFactory(shop=sub.shop),
        )


class TestChangeQuantity:
    def test_quantity_changes(self, sub, line, actor):
        services.subscription_change_quantity(subscription=sub, actor=actor, line=line, quantity=5)

        line.refresh_from_db()
        assert line.quantity == 5
        assert line.total == Decimal("90.00")
        assert_logged_without_event(sub, "quantity_changed")

    @pytest.mark.parametrize("quantity", [0, -1, "3", 2.5, None, True, 1001])
    def test_bad_quantity_is_refused(self, sub, line, actor, refused, quantity):
        error = refused(
            "invalid_quantity",
            services.subscription_change_quantity,
            subscription=sub,
            actor=actor,
            line=line,
            quantity=quantity,
        )
        assert error.field == "quantity"

    def test_same_quantity_is_refused(self, sub, line, actor, refused):
        refused(
            "unchanged",
            services.subscription_change_quantity,
            subscription=sub,
            actor=actor,
            line=line,
            quantity=2,
        )


class TestAddAndRemoveLine:
    def test_add_line_priced_by_the_plan(self, sub, actor):
        tea = f.VariantFactory(shop=sub.shop, sku="TEA", price=Decimal("10.00"))

        added = services.subscription_add_line(subscription=sub, actor=actor, variant=tea, quantity=3)

        assert (added.variant, added.quantity, added.unit_price) == (tea, 3, Decimal("9.00"))
        assert sorted(sub.lines.values_list("variant__sku", flat=True)) == ["COFFEE", "TEA"]
        assert_logged_without_event(sub, "line_added")

    def test_adding_a_variant_already_there_is_refused(self, sub, line, actor, refused):
        refused(
            "duplicate_line",
            services.subscription_add_line,
            subscription=sub,
            actor=actor,
            variant=line.variant,
        )

    def test_adding_another_shops_variant_is_not_found(self, sub, actor, refused):
        refused(
            "not_found",
            services.subscription_add_line,
            subscription=sub,
            actor=actor,
            variant=f.VariantFactory(),
        )

    def test_adding_an_unavailable_variant_is_refused(self, sub, actor, refused):
        variant = f.VariantFactory(shop=sub.shop, archived=True)
        refused(
            "variant_unavailable",
            services.subscription_add_line,
            subscription=sub,
            actor=actor,
            variant=variant,
        )

    def test_adding_zero_is_refused(self, sub, actor, refused):
        variant = f.VariantFactory(shop=sub.shop)
        refused(
            "invalid_quantity",
            services.subscription_add_line,
            subscription=sub,
            actor=actor,
            variant=variant,
            quantity=0,
        )

    def test_remove_one_of_two_lines(self, sub, line, actor):
        tea = f.SubscriptionLineFactory(subscription=sub)

        services.subscription_remove_line(subscription=sub, actor=actor, line=tea)

        assert list(sub.lines.all()) == [line]
        assert_logged_without_event(sub, "line_removed")

    def test_removing_the_last_line_is_refused(self, sub, line, actor, refused):
        error = refused(
            "last_line", services.subscription_remove_line, subscription=sub, actor=actor, line=line
        )
        assert "cancel" in error.message

    def test_removing_a_line_of_another_subscription_is_not_found(self, sub, actor, refused):
        f.SubscriptionLineFactory(subscription=sub)
        foreign_line = f.SubscriptionFactory(shop=sub.shop).lines.get()
        refused(
            "not_found", services.subscription_remove_line, subscription=sub, actor=actor, line=foreign_line
        )


class TestChangePlan:
    def test_prices_follow_the_new_plan_and_the_next_order_stays(self, sub, line, actor):
        bimonthly = f.PlanFactory(
            program=sub.plan.program,
            name="Every 2 months",
            interval_count=2,
            discount_type=Plan.DiscountType.FIXED,
            discount_value=Decimal("5.00"),
        )

        services.subscription_change_plan(subscription=sub, actor=actor, plan=bimonthly)

        sub.refresh_from_db()
        line.refresh_from_db()
        assert sub.plan == bimonthly
        assert line.unit_price == Decimal("15.00")
        assert sub.next_billing_date == D(2025, 2, 10)
        assert sub.date_after(sub.next_billing_date) == D(2025, 4, 10)
        log = assert_logged_without_event(sub, "frequency_changed")
        assert log.details == {"plan": "Monthly", "frequency_unit": "month", "frequency_interval": 1}

    def test_other_shops_plan_is_not_found(self, sub, actor, refused):
        refused(
            "not_found",
            services.subscription_change_plan,
            subscription=sub,
            actor=actor,
            plan=f.PlanFactory(),
        )

    def test_inactive_plan_is_refused(self, sub, actor, refused):
        plan = f.PlanFactory(shop=sub.shop, active=False)
        refused("plan_inactive", services.subscription_change_plan, subscription=sub, actor=actor, plan=plan)

    def test_plan_of_an_inactive_program_is_refused(self, sub, actor, refused):
        program = f.SubscriptionProgramFactory(shop=sub.shop, active=False)
        plan = f.PlanFactory(shop=sub.shop, program=program)
        refused("plan_inactive", services.subscription_change_plan, subscription=sub, actor=actor, plan=plan)

    def test_same_plan_is_refused(self, sub, actor, refused):
        refused("unchanged", services.subscription_change_plan, subscription=sub, actor=actor, plan=sub.plan)


ADDRESS = {
    "first_name": "Ada",
    "line1": " 12 Analytical Way ",
    "city": "London",
    "postal_code": "N1",
    "country": "gb",
}


class TestShippingAddress:
    def test_future_orders_ship_to_the_new_address(self, sub, actor):
        old = sub.shipping_address

        services.subscription_update_shipping_address(subscription=sub, actor=actor, **ADDRESS)

        sub.refresh_from_db()
        new = sub.shipping_address
        assert new != old
        assert new.customer == sub.customer and new.shop == sub.shop
        assert (new.line1, new.city, new.country) == ("12 Analytical Way", "London", "GB")
        assert Address.objects.filter(pk=old.pk).exists()  # kept in the address book
        log = assert_logged_without_event(sub, "address_changed")
        assert log.details == {"shipping_address": old.as_dict()}

    @pytest.mark.parametrize(
        "override, code, field",
        [
            ({"line1": ""}, "required", "line1"),
            ({"city": "  "}, "required", "city"),
            ({"country": None}, "required", "country"),
            ({"country": "GBR"}, "invalid_country", "country"),
            ({"country": "1A"}, "invalid_country", "country"),
            ({"state": "Kent"}, "unknown_field", "state"),
        ],
    )
    def test_incomplete_or_bad_address_is_refused(self, sub, actor, refused, override, code, field):
        error = refused(
            code,
            services.subscription_update_shipping_address,
            subscription=sub,
            actor=actor,
            **{**ADDRESS, **override},
        )
        assert error.field == field


class TestPaymentMethod:
    def test_future_orders_charge_the_new_method(self, sub, actor):
        old = sub.payment_method
        card = f.PaymentMethodFactory(
            customer=sub.customer, brand="Mastercard", last4="4444", exp_month=3, exp_year=2029
        )

        services.subscription_update_payment_method(subscription=sub, actor=actor, payment_method=card)

        sub.refresh_from_db()
        assert sub.payment_method == card
        assert [e.type for e in OutboxEvent.objects.all()] == ["subscription.payment_method_updated"]
        data = OutboxEvent.objects.get().payload["data"]
        assert data["payment_method"] == {
            "brand": "Mastercard",
            "last4": "4444",
            "exp_month": 3,
            "exp_year": 2029,
        }
        assert data["previous"] == {"payment_method": str(old)}
        assert ActivityLog.objects.get(subscription=sub).action == "payment_method_updated"

    def test_another_customers_method_is_not_found(self, sub, actor, refused):
        theirs = f.PaymentMethodFactory(shop=sub.shop)
        refused(
            "not_found",
            services.subscription_update_payment_method,
            subscription=sub,
            actor=actor,
            payment_method=theirs,
        )

    def test_same_method_is_refused(self, sub, actor, refused):
        refused(
            "unchanged",
            services.subscription_update_payment_method,
            subscription=sub,
            actor=actor,
            payment_method=sub.payment_method,
        )


class TestApplyDiscount:
    @pytest.mark.parametrize("typed", ["WELCOME10", "welcome10", "  Welcome10 "])
    def test_code_is_applied_whatever_its_case(self, sub, actor, typed):
        code = f.DiscountCodeFactory(shop=sub.shop, code="welcome10")  # stored in capitals
        assert code.code == "WELCOME10"

        applied = services.subscription_apply_discount(subscription=sub, actor=actor, code=typed)

        assert (applied.subscription, applied.code, applied.removed_at) == (sub, code, None)
        code.refresh_from_db()
        assert code.times_used == 1
        assert_logged_without_event(sub, "discount_applied")

    @pytest.mark.parametrize(
        "duration, recurring_count, remaining",
        [
            (DiscountCode.Duration.FIRST_PAYMENT, None, 1),
            (DiscountCode.Duration.RECURRING, 3, 3),
            (DiscountCode.Duration.ALL, None, None),
        ],
    )
    def test_duration_sets_the_payments_it_lasts(self, sub, actor, duration, recurring_count, remaining):
        f.DiscountCodeFactory(shop=sub.shop, code="SAVE", duration=duration, recurring_count=recurring_count)
        applied = services.subscription_apply_discount(subscription=sub, actor=actor, code="save")
        assert applied.payments_remaining == remaining

    @pytest.mark.parametrize(
        "code_kwargs, code",
        [
            (None, "invalid_code"),
            ({"active": False}, "invalid_code"),
            ({"applies_to": DiscountCode.AppliesTo.ONE_TIME}, "code_not_for_subscriptions"),
            ({"ends_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, "code_expired"),
            ({"starts_at": dt.datetime(2025, 2, 1, tzinfo=dt.UTC)}, "code_expired"),
            ({"usage_limit": 5, "times_used": 5}, "code_used_up"),
        ],
        ids=["unknown", "inactive", "one_time_only", "expired", "not_started", "used_up"],
    )
    def test_unusable_code_is_refused(self, sub, actor, refused, code_kwargs, code):
        if code_kwargs is not None:
            f.DiscountCodeFactory(shop=sub.shop, code="SAVE", **code_kwargs)
        error = refused(
            code, services.subscription_apply_discount, subscription=sub, actor=actor, code="save"
        )
        assert error.field == "code"
        assert "SAVE" in error.message

    def test_another_shops_code_does_not_exist_here(self, sub, actor, refused):
        f.DiscountCodeFactory(code="SAVE")
        refused(
            "invalid_code", services.subscription_apply_discount, subscription=sub, actor=actor, code="SAVE"
        )

    def test_empty_code_is_refused(self, sub, actor, refused):
        refused("required", services.subscription_apply_discount, subscription=sub, actor=actor, code="  ")

    def test_applying_twice_is_refused(self, sub, actor, refused):
        f.DiscountCodeFactory(shop=sub.shop, code="SAVE")
        services.subscription_apply_discount(subscription=sub, actor=actor, code="SAVE")
        refused(
            "already_applied",
            services.subscription_apply_discount,
            subscription=sub,
            actor=actor,
            code="save",
        )

    def test_last_use_is_allowed_then_the_code_is_used_up(self, sub, actor, refused):
        f.DiscountCodeFactory(shop=sub.shop, code="SAVE", usage_limit=1)
        services.subscription_apply_discount(subscription=sub, actor=actor, code="SAVE")
        other = f.SubscriptionFactory(shop=sub.shop)
        refused(
            "code_used_up", services.subscription_apply_discount, subscription=other, actor=actor, code="SAVE"
        )


class TestRemoveDiscount:
    def test_remove_then_apply_again(self, sub, actor):
        f.DiscountCodeFactory(shop=sub.shop, code="SAVE")
        services.subscription_apply_discount(subscription=sub, actor=actor, code="SAVE")
        ActivityLog.objects.all().delete()

        services.subscription_remove_discount(subscription=sub, actor=actor, code="save")

        assert SubscriptionDiscount.objects.get(subscription=sub).removed_at is not None
        assert_logged_without_event(sub, "discount_removed")
        services.subscription_apply_discount(subscription=sub, actor=actor, code="SAVE")
        assert sub.discounts.filter(removed_at__isnull=True).count() == 1

    def test_code_not_applied_is_refused(self, sub, actor, refused):
        f.DiscountCodeFactory(shop=sub.shop, code="SAVE")
        refused(
            "not_applied", services.subscription_remove_discount, subscription=sub, actor=actor, code="SAVE"
        )
