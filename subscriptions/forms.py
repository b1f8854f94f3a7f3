"""Forms of the merchant console's subscription actions.

They only parse input: every rule is enforced by the service the console calls with the cleaned
data, so the console refuses exactly what the API and the portal refuse.
"""

from django import forms

from subscriptions.models import (
    Address,
    Customer,
    DiscountCode,
    PaymentMethod,
    Plan,
    Subscription,
    SubscriptionLine,
    Variant,
)
from subscriptions.services.common import ADDRESS_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


def _line_label(line: SubscriptionLine) -> str:
    return f"{line.quantity} × {line.variant} — {line.unit_price} each"


class SubscriptionActionForm(forms.Form):
    """A form for one action on one subscription; `service_kwargs()` is passed to the service."""

    def __init__(self, *args, subscription: Subscription, **kwargs):
        self.subscription = subscription
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)

    def _lines(self):
        return self.subscription.lines.select_related("variant__product")

    def _variants(self):
        return Variant.objects.filter(shop_id=self.subscription.shop_id, archived=False).select_related(
            "product"
        )


class ConfirmForm(SubscriptionActionForm):
    """No input: the button itself is the decision."""


class SkipForm(SubscriptionActionForm):
    date = forms.DateField(required=False, widget=DATE_INPUT, help_text="Leave empty to skip the next order.")


class UnskipForm(SubscriptionActionForm):
    date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty to undo the earliest upcoming skip."
    )


class PauseForm(SubscriptionActionForm):
    resume_on = forms.DateField(
        required=False,
        widget=DATE_INPUT,
        label="Resume automatically on",
        help_text="Leave empty to pause until someone resumes it.",
    )


class ActivateForm(SubscriptionActionForm):
    next_billing_date = forms.DateField(
        required=False,
        widget=DATE_INPUT,
        help_text="Leave empty to keep the schedule (the next date after today).",
    )


class CancelForm(SubscriptionActionForm):
    reason = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class NextBillingDateForm(SubscriptionActionForm):
    date = forms.DateField(widget=DATE_INPUT, label="Next billing date")


class GiftForm(SubscriptionActionForm):
    recipient_first_name = forms.CharField(max_length=100)
    recipient_last_name = forms.CharField(max_length=100, required=False)
    recipient_email = forms.EmailField(required=False)
    message = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    line1 = forms.CharField(max_length=200, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100)
    province = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.CharField(max_length=2, help_text="Two-letter code, for example US.")


class SwapVariantForm(SubscriptionActionForm):
    line = forms.ModelChoiceField(queryset=SubscriptionLine.objects.none())
    variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="New product")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = self._lines()
        self.fields["line"].label_from_instance = _line_label
        self.fields["variant"].queryset = self._variants()


class ChangeQuantityForm(SubscriptionActionForm):
    line = forms.ModelChoiceField(queryset=SubscriptionLine.objects.none())
    quantity = forms.IntegerField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = self._lines()
        self.fields["line"].label_from_instance = _line_label


class AddLineForm(SubscriptionActionForm):
    variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="Product")
    quantity = forms.IntegerField(initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].queryset = self._variants()


class RemoveLineForm(SubscriptionActionForm):
    line = forms.ModelChoiceField(queryset=SubscriptionLine.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = self._lines()
        self.fields["line"].label_from_instance = _line_label


class ChangePlanForm(SubscriptionActionForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), label="New frequency")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(shop_id=self.subscription.shop_id).select_related(
            "program"
        )
        self.fields["plan"].label_from_instance = lambda plan: f"{plan} ({plan.frequency_label})"
        self.fields["plan"].initial = self.subscription.plan_id


class ShippingAddressForm(SubscriptionActionForm):
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    line1 = forms.CharField(max_length=200, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100)
    province = forms.CharField(max_length=100, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    country = forms.CharField(max_length=2, help_text="Two-letter code, for example US.")
    phone = forms.CharField(max_length=32, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.subscription.shipping_address
        if current is not None:
            for name in ADDRESS_FIELDS:
                self.fields[name].initial = getattr(current, name)


class PaymentMethodForm(SubscriptionActionForm):
    payment_method = forms.ModelChoiceField(queryset=PaymentMethod.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["payment_method"].queryset = self.subscription.customer.payment_methods.all()
        self.fields["payment_method"].initial = self.subscription.payment_method_id


class ApplyDiscountForm(SubscriptionActionForm):
    code = forms.CharField(max_length=64, label="Discount code")


class RemoveDiscountForm(SubscriptionActionForm):
    code = forms.ChoiceField(label="Discount code")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = (
            DiscountCode.objects.filter(
                applications__subscription=self.subscription, applications__removed_at__isnull=True
            )
            .values_list("code", flat=True)
            .distinct()
        )
        self.fields["code"].choices = [(c, c) for c in codes]


class SubscriptionCreateForm(forms.Form):
    """The console's "add subscription" page: what `subscription_create` needs."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    plan = forms.ModelChoiceField(queryset=Plan.objects.none())
    variant = forms.ModelChoiceField(queryset=Variant.objects.none(), label="Product")
    quantity = forms.IntegerField(initial=1)
    next_billing_date = forms.DateField(
        required=False, widget=DATE_INPUT, help_text="Leave empty for one interval from today."
    )
    payment_method = forms.ModelChoiceField(
        queryset=PaymentMethod.objects.none(),
        required=False,
        help_text="One of the customer's payment methods; empty for none yet.",
    )
    shipping_address = forms.ModelChoiceField(
        queryset=Address.objects.none(),
        required=False,
        help_text="One of the customer's addresses; empty for none yet.",
    )

    def __init__(self, *args, querysets: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, queryset in querysets.items():
            self.fields[name].queryset = queryset
        self.fields["plan"].label_from_instance = lambda plan: f"{plan} ({plan.frequency_label})"
        self.fields["payment_method"].label_from_instance = lambda m: f"{m.customer.email}: {m}"
        self.fields["shipping_address"].label_from_instance = lambda a: f"{a.customer.email}: {a}"
