"""Portal forms: parse and label the input; the services decide what is allowed."""

import functools

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LoginForm(forms.Form):
    shop = forms.CharField(label=_("Shop"), max_length=255, widget=forms.HiddenInput)
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class DateForm(forms.Form):
    date = forms.DateField(label=_("New next order date"), widget=DateInput)


class PauseForm(forms.Form):
    MONTHS = [("1", _("1 month")), ("2", _("2 months")), ("3", _("3 months"))]
    months = forms.ChoiceField(label=_("Pause for"), choices=MONTHS, required=False)
    resume_on = forms.DateField(label=_("Or resume on"), required=False, widget=DateInput)

    def clean(self):
        data = super().clean()
        if not data.get("months") and not data.get("resume_on"):
            raise forms.ValidationError(_("Choose how long to pause for, or a date to resume on."))
        return data


class CancelForm(forms.Form):
    REASONS = [
        ("too_much_product", _("I have too much product")),
        ("too_expensive", _("It is too expensive")),
        ("want_something_else", _("I want something else")),
        ("other", _("Another reason")),
    ]
    reason = forms.ChoiceField(label=_("Why are you cancelling?"), choices=REASONS)
    details = forms.CharField(
        label=_("Anything else you want to tell us (optional)"),
        required=False,
        max_length=400,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class GiftForm(forms.Form):
    recipient_first_name = forms.CharField(label=_("Recipient's first name"), max_length=100)
    recipient_last_name = forms.CharField(label=_("Recipient's last name"), max_length=100, required=False)
    recipient_email = forms.EmailField(label=_("Recipient's email"), required=False)
    line1 = forms.CharField(label=_("Address"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100)
    province = forms.CharField(label=_("State or province"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.CharField(label=_("Country code (for example US)"), max_length=2)
    message = forms.CharField(label=_("Gift message"), max_length=500, required=False)


class LineForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)


class SwapForm(LineForm):
    variant = forms.IntegerField(label=_("Swap for"))


class QuantityForm(LineForm):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1000)


class AddLineForm(forms.Form):
    variant = forms.IntegerField(label=_("Product"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1000, initial=1)


class PlanForm(forms.Form):
    plan = forms.IntegerField(label=_("Frequency"))


class AddressForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    line1 = forms.CharField(label=_("Address"), max_length=200)
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100)
    province = forms.CharField(label=_("State or province"), max_length=100, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.CharField(label=_("Country code (for example US)"), max_length=2)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)


class CardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    exp_month = forms.IntegerField(label=_("Expiry month"), min_value=1, max_value=12)
    exp_year = forms.IntegerField(label=_("Expiry year"), min_value=2000, max_value=2100)


class DiscountForm(forms.Form):
    code = forms.CharField(label=_("Discount code"), max_length=64)


# ---------------------------------------------------------------- blank forms, rendered once


class RenderedField:
    """A blank form's field as the page shows it: `{{ field.label_tag }} {{ field }}`."""

    def __init__(self, label_tag: str, html: str):
        self.label_tag = label_tag
        self.html = html

    def __html__(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


class RenderedForm:
    """A blank form rendered once: iterate it for its fields, or name one (`{{ form.months }}`)."""

    def __init__(self, fields: dict[str, RenderedField]):
        self.fields = fields

    def __iter__(self):
        return iter(self.fields.values())

    def __getitem__(self, name: str) -> RenderedField:
        return self.fields[name]


@functools.lru_cache(maxsize=64)
def _blank(form_class: type[forms.Form], auto_id: str, language: str | None) -> RenderedForm:
    form = form_class(auto_id=auto_id)
    return RenderedForm({bf.name: RenderedField(bf.label_tag(), str(bf)) for bf in form})


def blank(form_class: type[forms.Form], auto_id: str = "id_%s") -> RenderedForm:
    """The page's unbound `form_class`, the same HTML every time for a language: rendered the first
    time only (widgets and labels each render a template; the subscription page holds dozens). Only
    for forms whose blank HTML never changes: no initial value or choice computed per request."""
    return _blank(form_class, auto_id, get_language())


def prefilled(form_class: type[forms.Form], initial: dict | None) -> RenderedForm:
    """The page's unbound `form_class` showing `initial`: the labels as rendered once (`blank`), only
    the inputs, which hold the values, rendered each time."""
    labels = blank(form_class)
    if not initial:
        return labels
    form = form_class(initial=initial)
    return RenderedForm({bf.name: RenderedField(labels[bf.name].label_tag, str(bf)) for bf in form})
