"""Hosted subscribe page and checkout. Server-rendered, works without JavaScript (except Stripe
Elements, which needs Stripe.js). Every refusal re-renders the form with the error next to its
field, answers 4xx and changes nothing."""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.checkout import selectors, services
from portal.checkout.forms import AddToCartForm, CheckoutForm
from portal.checkout.models import Checkout
from portal.views import SESSION_CUSTOMER, SESSION_SHOP, sign_in
from subscriptions.errors import DomainError
from subscriptions.models import Customer, Order, Shop, add_interval

CHECKOUT_SESSION_KEY = "subscribe_checkout"
log = logging.getLogger(__name__)


def _shop(domain: str) -> Shop:
    return get_object_or_404(Shop, domain=domain.strip().lower())


def _signed_in(request: HttpRequest, shop: Shop) -> Customer | None:
    if request.session.get(SESSION_SHOP) != shop.pk or SESSION_CUSTOMER not in request.session:
        return None
    return portal_selectors.portal_customer_get(
        customer_id=request.session[SESSION_CUSTOMER], shop_id=shop.pk
    )


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _stripe() -> bool:
    return portal_services.stripe_configured()


# ---------------------------------------------------------------- product page


@require_http_methods(["GET", "POST"])
def product_page(request: HttpRequest, shop: str, product: int) -> HttpResponse:
    shop_obj = _shop(shop)
    item = selectors.subscribe_product_get(shop=shop_obj, product_id=product)
    one_time = selectors.one_time_allowed(shop=shop_obj)
    form = AddToCartForm(
        request.POST or None, variants=item.subscribe_variants, plans=item.subscribe_plans, one_time=one_time
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            plan = form.cleaned_data["plan"]
            try:
                services.cart_add(
                    session=request.session,
                    shop=shop_obj,
                    variant_id=form.cleaned_data["variant"],
                    plan_id=None if plan == AddToCartForm.ONE_TIME else int(plan),
                    quantity=form.cleaned_data["quantity"],
                )
            except DomainError as exc:
                form.add_error("quantity", exc.message)
            else:
                return redirect("checkout:checkout", shop=shop_obj.domain)
        status = 400
    today = shop_obj.local_today()
    prices = [
        {
            "plan": plan,
            "next_order_date": add_interval(today, plan.interval_unit, plan.interval_count),
            "prices": [(v, plan.unit_price(v.price)) for v in item.subscribe_variants],
        }
        for plan in item.subscribe_plans
    ]
    return render(
        request,
        "portal/subscribe/product.html",
        {
            "shop": shop_obj,
            "product": item,
            "form": form,
            "prices": prices,
            "cart_count": len(selectors.cart_raw(request.session, shop_obj)),
        },
        status=status,
    )


# ---------------------------------------------------------------- checkout


def _checkout_context(request, shop: Shop, form: CheckoutForm, checkout: Checkout, customer) -> dict:
    lines = selectors.cart_lines(request.session, shop)
    today = shop.local_today()
    groups = selectors.cart_groups(lines, today=today)
    return {
        "shop": shop,
        "form": form,
        "checkout": checkout,
        "signed_in_customer": customer,
        "groups": groups,
        "cart_empty": not lines,
        "total": sum((g.total for g in groups), 0),
        "savings": sum((line.savings for line in lines), 0),
        "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY if _stripe() else "",
    }


def _render_checkout(request, shop, form, checkout, customer, status=200) -> HttpResponse:
    return render(
        request,
        "portal/subscribe/checkout.html",
        _checkout_context(request, shop, form, checkout, customer),
        status=status,
    )


def _open_checkout(request, shop: Shop) -> Checkout:
    tokens = dict(request.session.get(CHECKOUT_SESSION_KEY, {}))
    checkout = services.checkout_open(shop=shop, token=tokens.get(str(shop.pk)))
    tokens[str(shop.pk)] = str(checkout.token)
    request.session[CHECKOUT_SESSION_KEY] = tokens
    return checkout


def _field_for(form: CheckoutForm, field: str | None) -> str | None:
    """Where a service's error goes: its field when the form shows it, else the form's top."""
    if field == "payment_method" and "number" in form.fields:
        return "number"
    if field not in form.fields or form.fields[field].disabled or form.fields[field].widget.is_hidden:
        return None
    return field


@require_http_methods(["GET", "POST"])
def checkout_page(request: HttpRequest, shop: str) -> HttpResponse:
    shop_obj = _shop(shop)
    customer = _signed_in(request, shop_obj)
    form_kwargs = {
        "signed_in_email": customer.email if customer else "",
        "today": shop_obj.local_today(),
        "stripe": _stripe(),
    }
    if request.method == "GET":
        if not selectors.cart_lines(request.session, shop_obj):
            # Nothing to check out: no checkout row either (a crawler's visit stores nothing).
            return _render_checkout(request, shop_obj, CheckoutForm(**form_kwargs), None, customer)
        checkout = _open_checkout(request, shop_obj)
        initial = {"checkout": checkout.token}
        if customer is not None:
            initial.update(first_name=customer.first_name, last_name=customer.last_name)
        return _render_checkout(
            request, shop_obj, CheckoutForm(initial=initial, **form_kwargs), checkout, customer
        )

    form = CheckoutForm(request.POST, **form_kwargs)
    if services.checkout_rate_limited(ip=_ip(request)):
        limited = render(request, "portal/subscribe/limited.html", {"shop": shop_obj}, status=429)
        limited["Retry-After"] = str(settings.SUBSCRIBE_RATE_WINDOW_SECONDS)
        return limited
    if request.POST.get("website"):
        # Bot trap filled in: refuse without saying which field gave it away.
        return render(request, "portal/subscribe/refused.html", {"shop": shop_obj}, status=400)
    form.is_valid()
    token = form.cleaned_data.get("checkout")
    checkout = Checkout.objects.filter(shop=shop_obj, token=token).first() if token else None
    if checkout is None:
        return render(
            request, "portal/subscribe/refused.html", {"shop": shop_obj, "expired": True}, status=400
        )
    if checkout.status == Checkout.Status.COMPLETED:
        # A second submit of a placed order (double click, back button): never charged again.
        return _completed(request, shop_obj, checkout)
    if not form.is_valid():
        return _render_checkout(request, shop_obj, form, checkout, customer, status=400)

    data = form.cleaned_data
    lines = selectors.cart_lines(request.session, shop_obj)
    if not lines:
        form.add_error(None, _("Your cart is empty."))
        return _render_checkout(request, shop_obj, form, checkout, customer, status=400)
    if customer is None:
        existing = Customer.objects.filter(shop=shop_obj, email__iexact=data["email"].strip()).first()
        if existing is not None:
            # Recognised: a sign-in link instead of a second account with the same email.
            portal_services.magic_link_request(
                shop=shop_obj,
                email=existing.email,
                ip=_ip(request),
                next_path=reverse("checkout:checkout", kwargs={"shop": shop_obj.domain}),
            )
            form.add_error(
                "email",
                _(
                    "You already have an account with this email. We have emailed you a link to sign in; "
                    "your cart will be waiting."
                ),
            )
            return _render_checkout(request, shop_obj, form, checkout, customer, status=409)
    card = services.Card(
        number=data.get("number", ""),
        exp_month=data.get("exp_month"),
        exp_year=data.get("exp_year"),
        stripe_payment_method=data.get("payment_method", "") if _stripe() else "",
    )
    try:
        placed = services.checkout_place(
            checkout=checkout,
            lines=lines,
            customer=customer,
            email=data.get("email") or "",
            name={"first_name": data["first_name"], "last_name": data["last_name"], "phone": data["phone"]},
            address={
                k: data[k]
                for k in (
                    "first_name",
                    "last_name",
                    "line1",
                    "line2",
                    "city",
                    "province",
                    "postal_code",
                    "country",
                    "phone",
                )
            },
            card=card,
            code=data["code"],
        )
    except DomainError as exc:
        form.add_error(_field_for(form, exc.field), exc.message)
        return _render_checkout(request, shop_obj, form, checkout, customer, status=400)
    except Exception:
        # Not the shopper's fault (the service already refunded any charge): say so plainly.
        log.exception("placing checkout %s failed", checkout.pk)
        form.add_error(
            None,
            _("We could not save your order. Any payment was refunded; please try again in a moment."),
        )
        return _render_checkout(request, shop_obj, form, checkout, customer, status=503)
    return _completed(request, shop_obj, placed)


def _completed(request, shop: Shop, checkout: Checkout) -> HttpResponse:
    """Sign the checkout's customer in (this browser placed it) and show the confirmation."""
    tokens = dict(request.session.get(CHECKOUT_SESSION_KEY, {}))
    if tokens.get(str(shop.pk)) != str(checkout.token):
        raise Http404("No such checkout")
    if _signed_in(request, shop) != checkout.customer:
        sign_in(request, checkout.customer)
    services.cart_clear(session=request.session, shop=shop)
    return redirect("checkout:done", shop=shop.domain, token=checkout.token)


@require_POST
def cart_remove(request: HttpRequest, shop: str) -> HttpResponse:
    shop_obj = _shop(shop)
    index = request.POST.get("line", "")
    if index.isdigit():
        services.cart_remove(session=request.session, shop=shop_obj, index=int(index))
    return redirect("checkout:checkout", shop=shop_obj.domain)


@require_POST
def card_setup(request: HttpRequest, shop: str) -> HttpResponse:
    """JSON for the checkout's Stripe Elements script: a SetupIntent's client secret."""
    shop_obj = _shop(shop)
    if not _stripe():
        raise Http404("Stripe is not configured")
    token = dict(request.session.get(CHECKOUT_SESSION_KEY, {})).get(str(shop_obj.pk))
    checkout = (
        Checkout.objects.filter(shop=shop_obj, token=token, status=Checkout.Status.OPEN).first()
        if token
        else None
    )
    if checkout is None:
        return JsonResponse({"error": _("Your checkout has expired. Reload the page.")}, status=400)
    from portal.checkout.stripe import checkout_setup_intent_create

    try:
        secret = checkout_setup_intent_create(checkout=checkout)
    except DomainError as exc:
        return JsonResponse({"error": exc.message}, status=502)
    return JsonResponse({"client_secret": secret})


def done(request: HttpRequest, shop: str, token: str) -> HttpResponse:
    """The confirmation, for the customer the checkout signed in only."""
    shop_obj = _shop(shop)
    checkout = get_object_or_404(Checkout, shop=shop_obj, token=token, status=Checkout.Status.COMPLETED)
    customer = _signed_in(request, shop_obj)
    if customer is None or customer.pk != checkout.customer_id:
        raise Http404("No such checkout")
    subscriptions = portal_selectors.portal_subscriptions(customer=customer)
    subscriptions = [s for s in subscriptions if s.pk in set(checkout.subscription_ids)]
    orders = Order.objects.filter(shop=shop_obj, customer=customer, pk__in=checkout.order_ids).order_by("id")
    return render(
        request,
        "portal/subscribe/done.html",
        {
            "shop": shop_obj,
            "customer": customer,
            "checkout": checkout,
            "subscriptions": subscriptions,
            "orders": orders,
        },
    )
