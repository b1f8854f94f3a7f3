"""Subscribe page and checkout forms: parse and label the input (errors sit next to their field);
the services decide what is allowed."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.services import _luhn_ok

# Postal code formats checked where they are unambiguous; other countries take any code.
POSTAL_CODES = {
    "US": (re.compile(r"^\d{5}(-\d{4})?$"), _("Enter a ZIP code such as 12345 or 12345-6789.")),
    "CA": (re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"), _("Enter a postal code such as K1A 0B1.")),
    "GB": (
        re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
        _("Enter a postcode such as SW1A 1AA."),
    ),
    "DE": (re.compile(r"^\d{5}$"), _("Enter a five-digit postal code.")),
    "FR": (re.compile(r"^\d{5}$"), _("Enter a five-digit postal code.")),
}


class AccessibleForm(forms.Form):
    """Each field with an error points at it (aria-describedby) so screen readers read it out."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-describedby"] = f"{self.auto_id % name if self.auto_id else name}-error"
                attrs["aria-invalid"] = "true"


class AddToCartForm(AccessibleForm):
    """One product line: which variant, which plan (or once), how many."""

    ONE_TIME = "once"

    variant = forms.TypedChoiceField(label=_("Option"), coerce=int)
    plan = forms.ChoiceField(label=_("Delivery"), widget=forms.RadioSelect)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100, initial=1)

    def __init__(self, *args, variants, plans, one_time: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(v.pk, v.label) for v in variants]
        choices = [(str(p.pk), p.label) for p in plans]
        if one_time:
            choices.append((self.ONE_TIME, _("One-time purchase")))
        self.fields["plan"].choices = choices
        if choices:
            self.fields["plan"].initial = choices[0][0]
        if variants:
            self.fields["variant"].initial = variants[0].pk


class CheckoutForm(AccessibleForm):
    checkout = forms.UUIDField(widget=forms.HiddenInput)
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    line1 = forms.CharField(
        label=_("Address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(
        label=_("Apartment, suite, etc. (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    city = forms.CharField(
        label=_("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    province = forms.CharField(
        label=_("State or province"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    country = forms.CharField(
        label=_("Country code (for example US)"),
        max_length=60,  # longer input gets the two-letter message below, not a length one
        widget=forms.TextInput(attrs={"autocomplete": "country", "maxlength": "2"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    code = forms.CharField(label=_("Discount or referral code (optional)"), max_length=64, required=False)
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    exp_month = forms.IntegerField(label=_("Expiry month"), min_value=1, max_value=12)
    exp_year = forms.IntegerField(label=_("Expiry year"), min_value=2000, max_value=2100)
    payment_method = forms.CharField(required=False, widget=forms.HiddenInput)
    # Bot trap: hidden from people (CSS and aria-hidden), filled in by form-filling bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, signed_in_email: str = "", today=None, stripe: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.stripe = stripe
        if signed_in_email:
            # A signed-in customer subscribes as themselves.
            self.fields["email"].required = False
            self.fields["email"].disabled = True
            self.fields["email"].initial = signed_in_email
        if stripe:
            # Stripe Elements: the card goes from Stripe's iframe to Stripe, never to this form.
            for name in ("number", "exp_month", "exp_year"):
                del self.fields[name]

    def clean_country(self):
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError(_("Enter a two-letter country code such as US."))
        return country

    def clean_number(self):
        number = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit())
        if not 12 <= len(number) <= 19 or not _luhn_ok(number):
            raise forms.ValidationError(_("That card number is not valid."))
        return number

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        country, postal_code = data.get("country"), (data.get("postal_code") or "").strip().upper()
        if country and country in POSTAL_CODES:
            pattern, message = POSTAL_CODES[country]
            if not pattern.match(postal_code):
                self.add_error("postal_code", message)
        data["postal_code"] = postal_code
        month, year = data.get("exp_month"), data.get("exp_year")
        if (
            not self.stripe
            and month
            and year
            and self.today
            and (year, month)
            < (
                self.today.year,
                self.today.month,
            )
        ):
            self.add_error("exp_year", _("That card has expired."))
        if self.stripe and not (data.get("payment_method") or "").startswith("pm_"):
            self.add_error(None, _("Enter your card details."))
        return data
