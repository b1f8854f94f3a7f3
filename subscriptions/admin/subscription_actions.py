"""The lifecycle actions the console offers on a subscription, one service each.

A button is shown only where the action makes sense for the subscription's status, but the
service is what refuses: a POST to a hidden action gets the service's message and changes nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

from subscriptions import forms as f
from subscriptions import services
from subscriptions.models import Subscription

ACTIVE = (Subscription.Status.ACTIVE,)
PAUSED = (Subscription.Status.PAUSED,)
LIVE = (Subscription.Status.ACTIVE, Subscription.Status.PAUSED)


@dataclass(frozen=True)
class ConsoleAction:
    name: str
    label: str
    form_class: type[f.SubscriptionActionForm]
    service: Callable
    success: str
    statuses: tuple[str, ...] = LIVE
    description: str = ""
    # Extra condition for showing the button (beyond the status), given the subscription.
    visible_if: Callable[[Subscription], bool] | None = None

    def shown_for(self, subscription: Subscription) -> bool:
        if subscription.status not in self.statuses:
            return False
        return self.visible_if is None or self.visible_if(subscription)


def _has_discounts(subscription: Subscription) -> bool:
    return subscription.discounts.filter(removed_at__isnull=True).exists()


def _has_skips(subscription: Subscription) -> bool:
    return subscription.skips.filter(unskipped_at__isnull=True).exists()


CONSOLE_ACTIONS: dict[str, ConsoleAction] = {
    a.name: a
    for a in (
        ConsoleAction(
            "skip",
            "Skip next order",
            f.SkipForm,
            services.subscription_skip,
            "The order was skipped.",
            ACTIVE,
            "The skipped date is not billed; the next order moves to the following date.",
        ),
        ConsoleAction(
            "unskip",
            "Unskip",
            f.UnskipForm,
            services.subscription_unskip,
            "The skip was undone.",
            ACTIVE,
            visible_if=_has_skips,
        ),
        ConsoleAction(
            "pause",
            "Pause",
            f.PauseForm,
            services.subscription_pause,
            "The subscription is paused.",
            ACTIVE,
            "No order is billed while paused.",
        ),
        ConsoleAction(
            "activate",
            "Resume",
            f.ActivateForm,
            services.subscription_activate,
            "The subscription is active again.",
            PAUSED,
        ),
        ConsoleAction(
            "cancel",
            "Cancel",
            f.CancelForm,
            services.subscription_cancel,
            "The subscription is cancelled.",
            LIVE,
            "No further order is billed. This cannot be undone.",
        ),
        ConsoleAction(
            "set_next_billing_date",
            "Set next billing date",
            f.NextBillingDateForm,
            services.subscription_set_next_billing_date,
            "The next billing date was changed.",
        ),
        ConsoleAction(
            "send_now",
            "Send now",
            f.ConfirmForm,
            services.subscription_send_now,
            "The order will be billed at the shop's next billing run.",
            ACTIVE,
            "Bill the next order at the shop's next daily billing run instead of on its date.",
        ),
        ConsoleAction(
            "gift",
            "Gift next order",
            f.GiftForm,
            services.subscription_gift,
            "The next order will be shipped as a gift.",
            ACTIVE,
        ),
        ConsoleAction(
            "swap_variant",
            "Swap product",
            f.SwapVariantForm,
            services.subscription_swap_variant,
            "The product was swapped.",
        ),
        ConsoleAction(
            "change_quantity",
            "Change quantity",
            f.ChangeQuantityForm,
            services.subscription_change_quantity,
            "The quantity was changed.",
        ),
        ConsoleAction(
            "change_plan",
            "Change frequency",
            f.ChangePlanForm,
            services.subscription_change_plan,
            "The frequency was changed.",
        ),
        ConsoleAction(
            "add_line", "Add product", f.AddLineForm, services.subscription_add_line, "The product was added."
        ),
        ConsoleAction(
            "remove_line",
            "Remove product",
            f.RemoveLineForm,
            services.subscription_remove_line,
            "The product was removed.",
        ),
        ConsoleAction(
            "update_shipping_address",
            "Update shipping address",
            f.ShippingAddressForm,
            services.subscription_update_shipping_address,
            "The shipping address was changed.",
        ),
        ConsoleAction(
            "update_payment_method",
            "Update payment method",
            f.PaymentMethodForm,
            services.subscription_update_payment_method,
            "The payment method was changed.",
        ),
        ConsoleAction(
            "apply_discount",
            "Apply discount code",
            f.ApplyDiscountForm,
            services.subscription_apply_discount,
            "The discount code was applied.",
        ),
        ConsoleAction(
            "remove_discount",
            "Remove discount code",
            f.RemoveDiscountForm,
            services.subscription_remove_discount,
            "The discount code was removed.",
            statuses=(*LIVE, Subscription.Status.CANCELLED),
            visible_if=_has_discounts,
        ),
    )
}
