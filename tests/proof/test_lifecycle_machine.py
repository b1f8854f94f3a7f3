"""A Hypothesis state machine drives random sequences of lifecycle actions, billing days and payment
outcomes through the services (never the models directly) and checks after every step:

- the status is one of ACTIVE, PAUSED, CANCELLED;
- after a billing run an ACTIVE subscription's next billing date is after the run date (never in the past);
- the subscription's order count equals its paid orders; one order per billing date, one successful
  charge per order, one `transaction_succeeded` event per paid order, one `transaction_failed` per
  declined attempt;
- every lifecycle action emitted exactly the outbox events it should;
- a refused action (DomainError) changed no row at all.

Bounded for CI: MACHINE_EXAMPLES sequences (default 20) of at most 20 steps."""

import datetime as dt
import os
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from subscriptions.actors import Actor
from subscriptions.errors import DomainError
from subscriptions.models import Order, PaymentAttempt, Subscription
from subscriptions.services import billing, lifecycle
from tests import factories as f
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
START = dt.datetime(2025, 1, 15, 15, 0, tzinfo=UTC)  # 10:00 in New York, after the 09:00 billing time
EXAMPLES = int(os.environ.get("MACHINE_EXAMPLES", "20"))
TOKENS = ["tok_success", "tok_declined", "tok_insufficient_funds", "tok_network_error", "tok_fail_once"]
ACTOR = Actor.customer("ada@example.com")
Status = Subscription.Status
# Events billing emits on its own (renewals, dunning's final action); checked by the invariants.
BILLING_EVENTS = {"subscription.transaction_succeeded", "subscription.transaction_failed"}


def _rows(shop) -> dict:
    """Every row of the shop that a lifecycle action or billing may write (the whole-database snapshot
    of tests/subscriptions is too slow to take before every step)."""
    state = {}
    for label in (
        "subscriptions.Subscription",
        "subscriptions.SubscriptionLine",
        "subscriptions.SkippedDate",
        "subscriptions.Gift",
        "subscriptions.Order",
        "subscriptions.OrderLine",
        "subscriptions.PaymentAttempt",
        "subscriptions.ActivityLog",
        "subscriptions.Customer",
        "subscriptions.SubscriptionDiscount",
    ):
        state[label] = list(apps.get_model(label).objects.filter(shop=shop).order_by("pk").values())
    state["webhooks.OutboxEvent"] = list(OutboxEvent.objects.filter(shop_id=shop.pk).order_by("pk").values())
    return state


class Lifecycle(RuleBasedStateMachine):
    clock = None  # the test's time_machine fixture, set before the run

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.now = START
        self.clock.move_to(self.now, tick=False)
        self.shop = f.ShopFactory(timezone="America/New_York", currency="USD", dunning_final_action="cancel")
        self.customer = f.CustomerFactory(shop=self.shop, email="ada@example.com")
        self.methods = {
            token: f.PaymentMethodFactory(shop=self.shop, customer=self.customer, token=token)
            for token in TOKENS
        }
        self.sub = f.SubscriptionFactory(
            shop=self.shop,
            customer=self.customer,
            payment_method=self.methods["tok_success"],
            next_billing_date=dt.date(2025, 1, 20),
            anchor_day=20,
        )
        self.line = self.sub.lines.get()
        self.spare_variant = f.VariantFactory(shop=self.shop)
        self.billed_through: dt.date | None = None

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # ------------------------------------------------------------ helpers

    def today(self) -> dt.date:
        return self.shop.local_today()

    def events(self) -> Counter:
        return Counter(OutboxEvent.objects.filter(shop_id=self.shop.pk).values_list("type", flat=True))

    def act(self, expected: list[str], service, /, **kwargs) -> None:
        """Run a lifecycle service: either it succeeds and emits exactly `expected` (plus what billing
        emits for retries it triggers), or it is refused and nothing changed."""
        before_rows, before_events = _rows(self.shop), self.events()
        self.sub.refresh_from_db()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                service(subscription=self.sub, actor=ACTOR, **kwargs)
        except DomainError as error:
            assert error.code and error.message
            assert _rows(self.shop) == before_rows, f"refused {service.__name__} ({error.code}) changed rows"
            return
        emitted = self.events() - before_events
        own = Counter({k: v for k, v in emitted.items() if k not in BILLING_EVENTS})
        assert own == Counter(expected), f"{service.__name__}: emitted {dict(own)}, expected {expected}"

    def last_live(self) -> list[str]:
        live = Subscription.objects.filter(customer=self.customer, status__in=lifecycle.LIVE)
        return ["customer.deactivated"] if live.count() == 1 else []

    # ------------------------------------------------------------ lifecycle actions

    @rule()
    def skip(self):
        self.act(["subscription.skipped"], lifecycle.subscription_skip)

    @rule()
    def unskip(self):
        self.act(["subscription.unskipped"], lifecycle.subscription_unskip)

    @rule(days=st.none() | st.integers(min_value=-3, max_value=40))
    def pause(self, days):
        resume_on = None if days is None else self.today() + dt.timedelta(days=days)
        self.act(["subscription.paused"], lifecycle.subscription_pause, resume_on=resume_on)

    @rule()
    def resume(self):
        self.act(["subscription.activated"], lifecycle.subscription_activate)

    @rule()
    def cancel(self):
        self.act(["subscription.canceled", *self.last_live()], lifecycle.subscription_cancel, reason="fuzz")

    @rule(days=st.integers(min_value=-5, max_value=70))
    def change_date(self, days):
        date = self.today() + dt.timedelta(days=days)
        self.act(
            ["subscription.next_order_date_changed"], lifecycle.subscription_set_next_billing_date, date=date
        )

    @rule()
    def send_now(self):
        self.act(["subscription.send_now"], lifecycle.subscription_send_now)

    @rule()
    def swap(self):
        self.line.refresh_from_db()
        variant = self.spare_variant if self.line.variant_id != self.spare_variant.pk else None
        if variant is None:
            variant = f.VariantFactory(shop=self.shop)
            self.spare_variant = variant
        self.act([], lifecycle.subscription_swap_variant, line=self.line.pk, variant=variant)

    @rule(quantity=st.integers(min_value=-1, max_value=4))
    def quantity(self, quantity):
        self.act([], lifecycle.subscription_change_quantity, line=self.line.pk, quantity=quantity)

    @rule(token=st.sampled_from(TOKENS))
    def change_payment_method(self, token):
        # A new card retries failed orders at once: their charge events are billing's, checked below.
        self.act(
            ["subscription.payment_method_updated"],
            lifecycle.subscription_update_payment_method,
            payment_method=self.methods[token],
        )

    # ------------------------------------------------------------ time and billing

    @rule(days=st.integers(min_value=1, max_value=8))
    def billing_days(self, days):
        """Days pass; the shop's billing runs once each day after its billing time."""
        for _ in range(days):
            self.now += dt.timedelta(days=1)
            self.clock.move_to(self.now, tick=False)
            with TestCase.captureOnCommitCallbacks(execute=True):
                billing.shop_run_billing(shop=self.shop, run_date=self.today())
            self.billed_through = self.today()
            self.check_after_billing()

    @precondition(lambda self: self.billed_through is not None)
    @rule()
    def billing_again(self):
        """The same day's run again (a retried task, a second worker): nothing is billed twice."""
        paid = Order.objects.filter(shop=self.shop, status=Order.Status.PAID).count()
        attempts = PaymentAttempt.objects.filter(order__shop=self.shop).count()
        with TestCase.captureOnCommitCallbacks(execute=True):
            billing.shop_run_billing(shop=self.shop, run_date=self.billed_through)
        assert Order.objects.filter(shop=self.shop, status=Order.Status.PAID).count() == paid
        assert PaymentAttempt.objects.filter(order__shop=self.shop).count() == attempts

    def check_after_billing(self):
        self.sub.refresh_from_db()
        if self.sub.status == Status.ACTIVE:
            assert self.sub.next_billing_date > self.today(), (
                f"ACTIVE with next billing date {self.sub.next_billing_date} after the run of {self.today()}"
            )

    # ------------------------------------------------------------ invariants

    @invariant()
    def status_is_valid(self):
        self.sub.refresh_from_db()
        assert self.sub.status in Status.values
        if self.sub.status == Status.ACTIVE:
            assert self.sub.next_billing_date is not None

    @invariant()
    def orders_match_payments_and_events(self):
        orders = Order.objects.filter(subscription=self.sub)
        paid = orders.filter(status=Order.Status.PAID)
        self.sub.refresh_from_db()
        assert self.sub.order_count == paid.count()
        dates = list(orders.values_list("billing_date", flat=True))
        assert len(dates) == len(set(dates)), "two orders for one billing date"
        succeeded = PaymentAttempt.objects.filter(order__in=orders, status=PaymentAttempt.Status.SUCCEEDED)
        assert succeeded.count() == paid.count(), "a paid order without exactly one successful charge"
        events = self.events()
        assert events["subscription.transaction_succeeded"] == paid.count()
        declined = PaymentAttempt.objects.filter(order__in=orders, status=PaymentAttempt.Status.FAILED)
        assert events["subscription.transaction_failed"] == declined.count()


def test_random_lifecycles_keep_every_invariant(time_machine):
    Lifecycle.clock = time_machine
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=20,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
