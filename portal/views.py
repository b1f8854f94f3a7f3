"""Portal pages. Every view reads through portal.selectors and writes through a service with
`Actor.customer(email)`; a DomainError becomes a message on the page and changes nothing."""

import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from loyalty import services as loyalty_services
from loyalty.models import CustomerBalance, LedgerEntry, ReferralCode, Reward
from portal import forms, selectors
from portal import services as portal_services
from portal.links import read_subscription_link
from portal.templatetags.portal import format_shop_date, variant_options
from subscriptions import services
from subscriptions.actors import Actor
from subscriptions.admin.tenancy import user_shop_id
from subscriptions.errors import DomainError
from subscriptions.models import Customer, IntervalUnit, Plan, Shop, Subscription, Variant, add_interval
from subscriptions.selectors import effective_next_order_date, parse_id

SESSION_CUSTOMER = "portal_customer_id"
SESSION_SHOP = "portal_shop_id"


# ---------------------------------------------------------------- session


def sign_in(request: HttpRequest, customer: Customer) -> None:
    # A new session key on sign-in (no fixation); a staff member's console login is kept.
    request.session.cycle_key()
    request.session[SESSION_CUSTOMER] = customer.pk
    request.session[SESSION_SHOP] = customer.shop_id


def customer_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        customer = None
        if SESSION_CUSTOMER in request.session:
            customer = selectors.portal_customer_get(
                customer_id=request.session[SESSION_CUSTOMER], shop_id=request.session.get(SESSION_SHOP)
            )
        if customer is None:
            return redirect("portal:login")
        request.portal_customer = customer
        return view(request, customer, *args, **kwargs)

    return wrapper


def _shop_for_login(request: HttpRequest) -> Shop | None:
    domain = (request.POST.get("shop") or request.GET.get("shop") or "").strip().lower()
    if domain:
        return Shop.objects.filter(domain=domain).first()
    shop = Shop.objects.filter(domain=settings.PORTAL_DEFAULT_SHOP_DOMAIN).first()
    if shop is None:
        shops = list(Shop.objects.all()[:2])
        shop = shops[0] if len(shops) == 1 else None
    return shop


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


# ---------------------------------------------------------------- sign-in


def login(request: HttpRequest) -> HttpResponse:
    shop = _shop_for_login(request)
    if shop is None:
        return render(request, "portal/unknown_shop.html", status=404)
    if request.method == "POST":
        form = forms.LoginForm(request.POST)
        if form.is_valid():
            sent = portal_services.magic_link_request(
                shop=shop, email=form.cleaned_data["email"], ip=_client_ip(request)
            )
            if not sent:
                return render(request, "portal/login_limited.html", {"shop": shop}, status=429)
            # The same page whether or not the email belongs to a customer.
            return render(
                request, "portal/login_sent.html", {"shop": shop, "email": form.cleaned_data["email"]}
            )
    else:
        form = forms.LoginForm(initial={"shop": shop.domain})
    return render(request, "portal/login.html", {"shop": shop, "form": form})


@require_GET
def magic_link(request: HttpRequest, token: str) -> HttpResponse:
    customer = portal_services.magic_link_consume(token=token)
    if customer is None:
        return render(request, "portal/link_invalid.html", status=400)
    sign_in(request, customer)
    # A checkout that recognised an existing customer sends them back to finish it.
    next_path = request.GET.get("next", "")
    if next_path.startswith("/subscribe/") and url_has_allowed_host_and_scheme(next_path, allowed_hosts=None):
        return redirect(next_path)
    return redirect("portal:overview")


@require_GET
def deep_link(request: HttpRequest, token: str) -> HttpResponse:
    ids = read_subscription_link(token)
    customer = (
        Customer.objects.filter(pk=ids[0], subscriptions__pk=ids[1]).select_related("shop").first()
        if ids
        else None
    )
    if customer is None:
        return render(request, "portal/link_invalid.html", status=400)
    services.customer_mark_logged_in(customer=customer)
    sign_in(request, customer)
    return redirect("portal:subscription", pk=ids[1])


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    shop_id = request.session.pop(SESSION_SHOP, None)
    request.session.pop(SESSION_CUSTOMER, None)
    shop = Shop.objects.filter(pk=shop_id).first() if shop_id else None
    url = reverse("portal:login") + (f"?shop={shop.domain}" if shop else "")
    return redirect(url)


@require_POST
@staff_member_required
def view_as(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Staff open the portal as one of their shop's customers; the activity log records it."""
    customer = get_object_or_404(Customer.objects.select_related("shop"), pk=customer_id)
    if not request.user.is_superuser and user_shop_id(request.user) != customer.shop_id:
        raise Http404("No such customer")
    portal_services.portal_view_as(user=request.user, customer=customer)
    sign_in(request, customer)
    return redirect("portal:overview")


# ---------------------------------------------------------------- pages


@require_GET
@customer_required
def overview(request: HttpRequest, customer: Customer) -> HttpResponse:
    subscriptions = selectors.portal_subscriptions(customer=customer)
    return render(
        request,
        "portal/overview.html",
        {"customer": customer, "shop": customer.shop, "subscriptions": subscriptions},
    )


@require_GET
@customer_required
def orders(request: HttpRequest, customer: Customer) -> HttpResponse:
    return render(
        request,
        "portal/orders.html",
        {
            "customer": customer,
            "shop": customer.shop,
            "orders": selectors.portal_orders(customer=customer)[:100],
        },
    )


def _subscription_page(request: HttpRequest, customer: Customer, sub: Subscription, *, status=200, **forms_):
    return render(
        request,
        "portal/subscription.html",
        {
            "customer": customer,
            "shop": customer.shop,
            "sub": sub,
            "next_order_date": effective_next_order_date(sub),
            "plans": list(sub.plan.program.plans.all()),
            "variant_options": variant_options(selectors.purchasable_variants(shop_id=customer.shop_id)),
            "orders": selectors.portal_orders(customer=customer, subscription=sub, with_lines=False)[:20],
            "live": sub.status != Subscription.Status.CANCELLED,
            "active": sub.status == Subscription.Status.ACTIVE,
            "pause_form": forms.blank(forms.PauseForm),
            "cancel_form": forms.blank(forms.CancelForm),
            "gift_form": forms.blank(forms.GiftForm, auto_id="gift_%s"),  # ids unique next to address_form
            "address_form": forms.prefilled(
                forms.AddressForm, sub.shipping_address.as_dict() if sub.shipping_address else None
            ),
            "card_form": forms.blank(forms.CardForm),
            "discount_form": forms.DiscountForm(),
            "stripe_publishable_key": (
                settings.STRIPE_PUBLISHABLE_KEY if portal_services.stripe_configured() else ""
            ),
            **forms_,
        },
        status=status,
    )


@require_GET
@customer_required
def subscription_page(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    sub = selectors.portal_subscription_get(customer=customer, subscription_id=pk)
    return _subscription_page(request, customer, sub)


@require_GET
@customer_required
def loyalty(request: HttpRequest, customer: Customer) -> HttpResponse:
    balance = CustomerBalance.objects.filter(customer=customer).values_list("points", flat=True).first()
    return render(
        request,
        "portal/loyalty.html",
        {
            "customer": customer,
            "shop": customer.shop,
            "balance": balance or 0,
            "entries": LedgerEntry.objects.filter(customer=customer)[:50],
            "rewards": Reward.objects.filter(shop_id=customer.shop_id, active=True),
            "subscriptions": [
                s
                for s in selectors.portal_subscriptions(customer=customer)
                if s.status != Subscription.Status.CANCELLED
            ],
            "referral_code": ReferralCode.objects.select_related("shop").filter(customer=customer).first(),
        },
    )


@require_POST
@customer_required
def loyalty_redeem(request: HttpRequest, customer: Customer) -> HttpResponse:
    reward_id, subscription_id = request.POST.get("reward", ""), request.POST.get("subscription", "")
    reward_id, subscription_id = parse_id(reward_id), parse_id(subscription_id)
    if reward_id is None or subscription_id is None:
        messages.error(request, _("Choose a reward and the subscription it is for."))
        return redirect("portal:loyalty")
    reward = get_object_or_404(Reward, shop_id=customer.shop_id, active=True, pk=reward_id)
    sub = selectors.portal_subscription_get(customer=customer, subscription_id=subscription_id)
    try:
        redemption = loyalty_services.reward_redeem(
            customer=customer, reward=reward, subscription=sub, actor=Actor.customer(customer.email)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(reward)s is on your next order (code %(code)s).")
            % {"reward": reward.name, "code": redemption.discount_code.code},
        )
    return redirect("portal:loyalty")


@require_POST
@customer_required
def loyalty_referral_code(request: HttpRequest, customer: Customer) -> HttpResponse:
    loyalty_services.referral_code_generate(customer=customer, actor=Actor.customer(customer.email))
    return redirect("portal:loyalty")


# ---------------------------------------------------------------- actions


class InvalidInput(Exception):
    def __init__(self, form):
        self.form = form


def _valid(form_class, request):
    form = form_class(request.POST)
    if not form.is_valid():
        raise InvalidInput(form)
    return form.cleaned_data


def _variant(shop_id, variant_id) -> Variant | None:
    # None lets the service answer "does not exist in this shop".
    return Variant.objects.filter(shop_id=shop_id, pk=variant_id).select_related("product").first()


def _skip(request, sub, actor):
    services.subscription_skip(subscription=sub, actor=actor)
    return _("Your next order was skipped.")


def _unskip(request, sub, actor):
    services.subscription_unskip(subscription=sub, actor=actor)
    return _("Your skipped order is back on.")


def _change_date(request, sub, actor):
    data = _valid(forms.DateForm, request)
    services.subscription_set_next_billing_date(subscription=sub, actor=actor, date=data["date"])
    return _("Your next order date was changed.")


def _delay(request, sub, actor):
    if sub.next_billing_date is None:
        raise DomainError("no_next_order", _("This subscription has no next order to delay."))
    date = add_interval(sub.next_billing_date, IntervalUnit.MONTH, 1)
    services.subscription_set_next_billing_date(subscription=sub, actor=actor, date=date)
    return _("Your next order was delayed by a month.")


def _send_now(request, sub, actor):
    services.subscription_send_now(subscription=sub, actor=actor)
    return _("Your next order will be sent at the next billing run.")


def _gift(request, sub, actor):
    data = _valid(forms.GiftForm, request)
    gift = services.subscription_gift(subscription=sub, actor=actor, **data)
    return _("Your next order will go to %(name)s as a gift.") % {"name": gift.recipient_first_name}


def _pause(request, sub, actor):
    data = _valid(forms.PauseForm, request)
    resume_on = data.get("resume_on") or add_interval(
        sub.shop.local_today(), IntervalUnit.MONTH, int(data["months"])
    )
    services.subscription_pause(subscription=sub, actor=actor, resume_on=resume_on)
    return _("Your subscription is paused. It resumes on %(date)s.") % {
        "date": format_shop_date(sub.shop, resume_on)
    }


def _resume(request, sub, actor):
    services.subscription_activate(subscription=sub, actor=actor)
    return _("Your subscription is active again.")


def _swap(request, sub, actor):
    data = _valid(forms.SwapForm, request)
    services.subscription_swap_variant(
        subscription=sub, actor=actor, line=data["line"], variant=_variant(sub.shop_id, data["variant"])
    )
    return _("Product swapped.")


def _quantity(request, sub, actor):
    data = _valid(forms.QuantityForm, request)
    services.subscription_change_quantity(
        subscription=sub, actor=actor, line=data["line"], quantity=data["quantity"]
    )
    return _("Quantity updated.")


def _add_line(request, sub, actor):
    data = _valid(forms.AddLineForm, request)
    services.subscription_add_line(
        subscription=sub,
        actor=actor,
        variant=_variant(sub.shop_id, data["variant"]),
        quantity=data["quantity"],
    )
    return _("Product added.")


def _remove_line(request, sub, actor):
    data = _valid(forms.LineForm, request)
    services.subscription_remove_line(subscription=sub, actor=actor, line=data["line"])
    return _("Product removed.")


def _plan(request, sub, actor):
    data = _valid(forms.PlanForm, request)
    plan = (
        Plan.objects.filter(shop_id=sub.shop_id, program_id=sub.plan.program_id, pk=data["plan"])
        .select_related("program")
        .first()
    )
    services.subscription_change_plan(subscription=sub, actor=actor, plan=plan)
    return _("Your delivery frequency is now %(frequency)s.") % {"frequency": plan.frequency_label}


def _address(request, sub, actor):
    data = _valid(forms.AddressForm, request)
    services.subscription_update_shipping_address(subscription=sub, actor=actor, **data)
    return _("Shipping address updated.")


def _payment(request, sub, actor):
    data = _valid(forms.CardForm, request)
    method = portal_services.subscription_replace_card(subscription=sub, actor=actor, **data)
    return _("Payment method updated: %(card)s.") % {"card": str(method)}


def _stripe_payment(request, sub, actor):
    if not portal_services.stripe_configured():
        raise Http404("Stripe is not configured")
    method = portal_services.subscription_replace_card_stripe(
        subscription=sub, actor=actor, payment_method_id=request.POST.get("payment_method", "")
    )
    return _("Payment method updated: %(card)s.") % {"card": str(method)}


def _discount(request, sub, actor):
    data = _valid(forms.DiscountForm, request)
    services.subscription_apply_discount(subscription=sub, actor=actor, code=data["code"])
    return _("Discount code %(code)s applied.") % {"code": data["code"].strip().upper()}


ACTIONS: dict[str, Callable] = {
    "skip": _skip,
    "unskip": _unskip,
    "change-date": _change_date,
    "delay": _delay,
    "send-now": _send_now,
    "gift": _gift,
    "pause": _pause,
    "resume": _resume,
    "swap": _swap,
    "quantity": _quantity,
    "add-line": _add_line,
    "remove-line": _remove_line,
    "frequency": _plan,
    "address": _address,
    "payment-method": _payment,
    "stripe-payment-method": _stripe_payment,
    "discount": _discount,
}


@require_POST
@customer_required
def stripe_card_setup(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    """JSON for the page's Stripe Elements script: a SetupIntent's client secret."""
    if not portal_services.stripe_configured():
        raise Http404("Stripe is not configured")
    sub = selectors.portal_subscription_get(customer=customer, subscription_id=pk)
    if sub.status == Subscription.Status.CANCELLED:
        return JsonResponse({"error": _("This subscription is cancelled.")}, status=400)
    try:
        secret = portal_services.stripe_setup_intent_create(customer=customer)
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=502)
    return JsonResponse({"client_secret": secret})


def _confirm(request, sub: Subscription, text: str) -> None:
    sub = Subscription.objects.select_related("shop", "plan").get(pk=sub.pk)
    date = effective_next_order_date(sub) if sub.status == Subscription.Status.ACTIVE else None
    if date:
        text += " " + _("Your next order is on %(date)s.") % {"date": format_shop_date(sub.shop, date)}
    messages.success(request, text)


@require_POST
@customer_required
def subscription_action(request: HttpRequest, customer: Customer, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action")
    sub = selectors.portal_subscription_get(customer=customer, subscription_id=pk)
    try:
        text = handler(request, sub, Actor.customer(customer.email))
    except (InvalidInput, DomainError) as exc:
        if action in INLINE_ERRORS:
            return _page_with_field_error(request, customer, _fresh(sub), action, exc)
        # Invalid input is a 400 and a refused action a 409, each shown on the page it came from.
        _report(request, exc)
        return _render_subscription(
            request, customer, _fresh(sub), status=400 if isinstance(exc, InvalidInput) else 409
        )
    _confirm(request, sub, text)
    return redirect("portal:subscription", pk=sub.pk)


def _fresh(sub: Subscription) -> Subscription:
    return selectors.portal_subscription_get(customer=sub.customer, subscription_id=sub.pk)


def _render_subscription(request: HttpRequest, customer: Customer, sub: Subscription, status: int = 200):
    """The subscription page; with a 4xx status it answers a refused form, showing why (messages)."""
    return _subscription_page(request, customer, sub, status=status)


# Actions whose errors are shown next to their field on the page, with what was typed kept.
INLINE_ERRORS = {"discount": ("discount_form", forms.DiscountForm)}


def _page_with_field_error(request, customer, sub, action: str, exc: Exception) -> HttpResponse:
    name, form_class = INLINE_ERRORS[action]
    form = exc.form if isinstance(exc, InvalidInput) else form_class(request.POST)
    if isinstance(exc, DomainError):
        form.is_valid()
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return _subscription_page(request, customer, sub, status=400, **{name: form})


def _report(request, exc: Exception) -> None:
    if isinstance(exc, InvalidInput):
        for errors in exc.form.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.error(request, exc.message)


def retention_offer(sub: Subscription, reason: str) -> dict | None:
    """What to offer instead of cancelling, chosen by the reason given."""
    if reason == "too_much_product" and sub.next_billing_date:
        date = add_interval(sub.next_billing_date, IntervalUnit.MONTH, 1)
        return {"kind": "delay", "date": date}
    if reason == "too_expensive":
        code = selectors.retention_discount_code(shop_id=sub.shop_id)
        return {"kind": "discount", "code": code} if code else None
    if reason == "want_something_else" and sub.lines.all():
        return {"kind": "swap"}
    return None


@require_POST
@customer_required
def subscription_cancel(request: HttpRequest, customer: Customer, pk: int) -> HttpResponse:
    sub = selectors.portal_subscription_get(customer=customer, subscription_id=pk)
    form = forms.CancelForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _render_subscription(request, customer, sub, status=400)
    data = form.cleaned_data
    offer = None
    if not data["confirm"] and sub.status != Subscription.Status.CANCELLED:
        offer = retention_offer(sub, data["reason"])
    if offer is not None:
        return render(
            request,
            "portal/cancel_offer.html",
            {"customer": customer, "shop": customer.shop, "sub": sub, "offer": offer, "form": form},
        )
    reason = dict(forms.CancelForm.REASONS)[data["reason"]]
    full_reason = f"{reason}: {data['details']}" if data["details"] else str(reason)
    try:
        services.subscription_cancel(
            subscription=sub, actor=Actor.customer(customer.email), reason=full_reason
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return _render_subscription(request, customer, _fresh(sub), status=409)
    messages.success(request, _("Your subscription is cancelled. No further orders will be placed."))
    return redirect("portal:subscription", pk=sub.pk)
