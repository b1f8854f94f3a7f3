"""Integrations in the merchant console: one card per partner, connect / update / send test /
disconnect, which events each receives, and the guided Blueprint set-up.

Every change goes through `integrations.services`. Credentials are never shown again once saved:
their inputs are empty password fields ("saved — enter a new value to replace it"); leaving one
empty keeps the saved value. Errors name the field at fault and never repeat what was typed.
Staff work on their own shop; a superuser picks a shop with `?shop=<id>`.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.models import Access, ApiKey, Integration
from integrations.partners import Partner, PartnerError, classify, partners
from integrations.services import (
    api_key_create,
    integration_connect,
    integration_disconnect,
    integration_set_events,
)
from subscriptions.errors import DomainError
from subscriptions.models import Shop
from webhooks.admin.scoping import FULL_ACCESS_ROLES, ShopScopedAdmin, membership
from webhooks.models import Delivery, OutboxEvent
from webhooks.registry import event_types, sample_envelope

SAVED_HELP = "saved — enter a new value to replace it"
BLUEPRINT_NAME = "Blueprint"
BLUEPRINT_PERMISSIONS = {
    "subscriptions": Access.WRITE,
    "customers": Access.WRITE,
    "webhooks": Access.WRITE,
}


def _oauth_start(partner: Partner) -> str | None:
    """The URL name of the partner's OAuth install, when it connects that way (maybe only when its
    app is configured: then `extra["oauth_start"]` is a callable)."""
    start = partner.extra.get("oauth_start")
    return start() if callable(start) else start


def _event_choices(partner: Partner) -> list[tuple[str, str]]:
    known = event_types()
    return [
        (type_, f"{name} — {known[type_].meaning}" if type_ in known else name)
        for type_, name in partner.events.items()
    ]


class ConnectForm(forms.Form):
    """Credentials (password inputs, never pre-filled), non-secret settings, and events."""

    def __init__(self, *args, partner: Partner, integration: Integration | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner = partner
        saved = (integration.credentials or {}) if integration is not None else {}
        labels = partner.extra.get("credential_labels", {})
        helps = partner.extra.get("credential_help", {})
        optional = partner.extra.get("optional_credentials", ())
        for name in partner.credential_fields:
            has_saved = bool(saved.get(name))
            self.fields[name] = forms.CharField(
                label=labels.get(name, name.replace("_", " ").capitalize()),
                required=not has_saved and name not in optional,
                strip=True,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                help_text=SAVED_HELP if has_saved else helps.get(name, ""),
            )
        config = (integration.config or {}) if integration is not None else {}
        config_labels = partner.extra.get("config_labels", {})
        config_helps = partner.extra.get("config_help", {})
        for name in partner.config_fields:
            self.fields[name] = forms.CharField(
                label=config_labels.get(name, name.replace("_", " ").capitalize()),
                required=False,
                initial=config.get(name, ""),
                help_text=config_helps.get(name, ""),
            )
        live = integration is not None and integration.state != Integration.State.DISCONNECTED
        if partner.events:  # partners that only call us (Gorgias) or that we only call (Stripe) have none
            self.fields["events"] = forms.MultipleChoiceField(
                label="Events it receives",
                choices=_event_choices(partner),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                initial=list(integration.events) if live and integration.events else list(partner.events),
            )
        self.saved = saved

    def credentials(self) -> dict[str, str]:
        entered = {n: self.cleaned_data.get(n) or "" for n in self.partner.credential_fields}
        return {**self.saved, **{n: v for n, v in entered.items() if v}}

    def config(self) -> dict[str, str]:
        return {n: self.cleaned_data.get(n, "") for n in self.partner.config_fields}


class EventsForm(forms.Form):
    def __init__(self, *args, partner: Partner, integration: Integration, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["events"] = forms.MultipleChoiceField(
            label="Events it receives",
            choices=_event_choices(partner),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            initial=list(integration.events or []),
        )


def _send_generic_test(partner: Partner, integration: Integration, event_type: str):
    """A sample event (made-up customer, never a real one) through the partner's own sender."""
    event = OutboxEvent(
        id=uuid.uuid4(),
        shop_id=integration.shop_id,
        type=event_type,
        actor="admin",
        payload=sample_envelope(event_type, None),
        occurred_at=timezone.now(),
    )
    delivery = Delivery(
        id=uuid.uuid4(),
        event=event,
        shop_id=integration.shop_id,
        destination_kind="integration",
        destination_id=str(integration.pk),
        event_type=event_type,
    )
    return partner.send(integration, event, delivery)


class IntegrationAdmin(ShopScopedAdmin, admin.ModelAdmin):
    """Integrations > partners. The changelist is the overview of cards."""

    # -- permissions (tenancy as everywhere in the console) -----------------------------------
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return self._granted(request, super().has_change_permission(request, obj), obj)

    def _may_create_keys(self, request) -> bool:
        user = request.user
        if user.is_superuser:
            return True
        found = membership(user)
        return found is not None and (
            found.role in FULL_ACCESS_ROLES or user.has_perm("integrations.add_apikey")
        )

    # -- shop of the page ---------------------------------------------------------------------
    def _shop(self, request) -> Shop | None:
        """Staff: their shop. Superuser: `?shop=<id>`, or None (then the page offers a choice)."""
        user = request.user
        if user.is_superuser:
            shop_id = request.GET.get("shop")
            if not shop_id:
                return None
            shop = Shop.objects.filter(pk=shop_id).first() if str(shop_id).isdigit() else None
            if shop is None:
                raise Http404("No shop with that id.")
            return shop
        found = membership(user)
        if found is None:
            raise PermissionDenied
        return found.shop

    def _require_shop(self, request) -> Shop:
        shop = self._shop(request)
        if shop is None:
            raise Http404("Choose a shop first (?shop=<id>).")
        return shop

    def _url(self, request, name: str, *args) -> str:
        return self._with_shop(request, reverse(f"admin:integrations_integration_{name}", args=args))

    def _with_shop(self, request, url: str) -> str:
        shop_id = request.GET.get("shop") if request.user.is_superuser else None
        return f"{url}?shop={shop_id}" if shop_id else url

    def _connect_url(self, request, partner: Partner) -> str:
        """Our connect form, or the partner's OAuth install (`extra["oauth_start"]`, a URL name)."""
        oauth_start = _oauth_start(partner)
        if oauth_start:
            return self._with_shop(request, reverse(oauth_start))
        return self._url(request, "connect", partner.key)

    def _partner(self, key: str) -> Partner:
        found = partners().get(key)
        if found is None:
            raise Http404("No such integration.")
        return found

    def _integration(self, shop: Shop, key: str) -> Integration | None:
        return Integration.objects.filter(shop=shop, partner=key).first()

    def _context(self, request, **extra) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    # -- urls -----------------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("blueprint/", wrap(self.blueprint_view), name="integrations_integration_blueprint"),
            path(
                "<slug:partner_key>/connect/",
                wrap(self.connect_view),
                name="integrations_integration_connect",
            ),
            path(
                "<slug:partner_key>/events/", wrap(self.events_view), name="integrations_integration_events"
            ),
            path("<slug:partner_key>/test/", wrap(self.test_view), name="integrations_integration_test"),
            path(
                "<slug:partner_key>/disconnect/",
                wrap(self.disconnect_view),
                name="integrations_integration_disconnect",
            ),
            *super().get_urls(),
        ]

    # -- overview ---------------------------------------------------------------------------------
    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        shop = self._shop(request)
        if shop is None:
            context = self._context(request, title="Integrations", shops=Shop.objects.order_by("name"))
            return TemplateResponse(request, "admin/integrations/integration/choose_shop.html", context)
        can_change = self.has_change_permission(request)
        by_partner = {i.partner: i for i in Integration.objects.filter(shop=shop)}
        cards = []
        for key, partner in sorted(partners().items(), key=lambda item: item[1].name.lower()):
            integration = by_partner.get(key)
            live = integration is not None and integration.state != Integration.State.DISCONNECTED
            cards.append(
                {
                    "partner": partner,
                    "integration": integration if live else None,
                    "state": integration.state if live else Integration.State.DISCONNECTED,
                    "state_label": (integration.get_state_display() if live else "Not connected"),
                    "connect_url": self._connect_url(request, partner),
                    "events_url": self._url(request, "events", key),
                    "test_url": self._url(request, "test", key),
                    "disconnect_url": self._url(request, "disconnect", key),
                    "events_form": EventsForm(
                        partner=partner, integration=integration, auto_id=f"id_{key}_%s"
                    )
                    if live
                    else None,
                    "event_choices": _event_choices(partner),
                    "event_count": len(integration.events or []) if live else 0,
                    # Where the partner posts replies, when the merchant must paste it there (Twilio).
                    "inbound_url": partner.extra["inbound_url"](integration)
                    if live and "inbound_url" in partner.extra
                    else "",
                }
            )
        blueprint_keys = ApiKey.objects.filter(
            shop=shop, application_nickname=BLUEPRINT_NAME, revoked_at__isnull=True
        ).count()
        context = self._context(
            request,
            title="Integrations",
            shop=shop,
            cards=cards,
            can_change=can_change,
            blueprint_url=self._url(request, "blueprint"),
            blueprint_keys=blueprint_keys,
            may_create_keys=self._may_create_keys(request) and can_change,
            api_keys_url=reverse("admin:integrations_apikey_changelist"),
        )
        return TemplateResponse(request, "admin/integrations/integration/overview.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(self._url(request, "changelist"))

    def _back(self, request) -> HttpResponseRedirect:
        return HttpResponseRedirect(self._url(request, "changelist"))

    def _check_change(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied

    # -- connect / update -------------------------------------------------------------------------
    def connect_view(self, request, partner_key: str):
        self._check_change(request)
        shop = self._require_shop(request)
        partner = self._partner(partner_key)
        if _oauth_start(partner):
            return HttpResponseRedirect(self._connect_url(request, partner))
        integration = self._integration(shop, partner_key)
        live = integration is not None and integration.state != Integration.State.DISCONNECTED
        form = ConnectForm(request.POST or None, partner=partner, integration=integration if live else None)
        if request.method == "POST" and form.is_valid():
            try:
                connected = integration_connect(
                    shop=shop,
                    partner_key=partner_key,
                    credentials=form.credentials(),
                    config=form.config(),
                    events=form.cleaned_data.get("events", []),
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.log_change(request, connected, f"{'Updated' if live else 'Connected'} {partner.name}")
                self.message_user(request, f"{partner.name} is connected.", messages.SUCCESS)
                self._run_setup(request, partner, connected)
                return self._back(request)
        context = self._context(
            request,
            title=f"{'Update' if live else 'Connect'} {partner.name}",
            partner=partner,
            integration=integration if live else None,
            form=form,
            back_url=self._url(request, "changelist"),
            submit=partner.extra.get("submit") or ("Save and check the connection" if live else "Connect"),
        )
        response = TemplateResponse(request, "admin/integrations/integration/connect.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def _run_setup(self, request, partner: Partner, integration: Integration) -> None:
        """What a partner builds on its side once connected (Gorgias: API key, HTTP integration and
        widget). The connection stays saved when this fails; running it again replaces, not adds."""
        setup = partner.extra.get("setup")
        if not setup:
            return
        try:
            summary = import_string(setup)(integration)
        except PartnerError as exc:
            self.message_user(
                request,
                f"{partner.name} is connected, but the set-up did not finish: {exc.message}. "
                "Save again to retry.",
                messages.ERROR,
            )
        else:
            self.log_change(request, integration, f"Set up {partner.name}")
            self.message_user(request, summary, messages.SUCCESS)

    # -- events -----------------------------------------------------------------------------------
    def events_view(self, request, partner_key: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_change(request)
        shop = self._require_shop(request)
        partner = self._partner(partner_key)
        integration = self._integration(shop, partner_key)
        if integration is None or integration.state == Integration.State.DISCONNECTED:
            raise Http404("Connect it first.")
        form = EventsForm(request.POST, partner=partner, integration=integration)
        if form.is_valid():
            try:
                integration_set_events(integration=integration, events=form.cleaned_data["events"])
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.log_change(request, integration, "Changed the events it receives")
                self.message_user(
                    request,
                    f"{partner.name} now receives {len(integration.events)} event type(s).",
                    messages.SUCCESS,
                )
        else:
            self.message_user(request, "Choose events from the list.", messages.ERROR)
        return self._back(request)

    # -- send test --------------------------------------------------------------------------------
    def test_view(self, request, partner_key: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._check_change(request)
        shop = self._require_shop(request)
        partner = self._partner(partner_key)
        integration = self._integration(shop, partner_key)
        if integration is None or integration.state == Integration.State.DISCONNECTED:
            raise Http404("Connect it first.")
        event_type = request.POST.get("event_type") or next(iter(partner.events), "")
        if event_type not in partner.events:
            raise Http404("Unknown event.")
        sender = partner.extra.get("send_test")
        result = (
            sender(integration, event_type)
            if sender is not None
            else _send_generic_test(partner, integration, event_type)
        )
        outcome = (partner.classify or classify)(result)
        label = partner.events[event_type]
        if outcome.outcome == "delivered":
            self.message_user(
                request,
                f"{partner.name} accepted the test “{label}” (HTTP {outcome.status_code}).",
                messages.SUCCESS,
            )
        else:
            reason = outcome.error or f"HTTP {outcome.status_code}"
            self.message_user(
                request, f"{partner.name} did not accept the test “{label}”: {reason}", messages.ERROR
            )
        return self._back(request)

    # -- disconnect -------------------------------------------------------------------------------
    def disconnect_view(self, request, partner_key: str):
        self._check_change(request)
        shop = self._require_shop(request)
        partner = self._partner(partner_key)
        integration = self._integration(shop, partner_key)
        if integration is None or integration.state == Integration.State.DISCONNECTED:
            raise Http404("It is not connected.")
        if request.method == "POST":
            integration_disconnect(integration=integration)
            self.log_change(request, integration, f"Disconnected {partner.name}")
            self.message_user(
                request, f"{partner.name} is disconnected and its keys are forgotten.", messages.SUCCESS
            )
            return self._back(request)
        context = self._context(
            request,
            title=f"Disconnect {partner.name}?",
            partner=partner,
            back_url=self._url(request, "changelist"),
        )
        return TemplateResponse(request, "admin/integrations/integration/disconnect.html", context)

    # -- Blueprint: an API key, not an adapter -----------------------------------------------------
    def blueprint_view(self, request):
        """Blueprint calls the vendor API with a key of its own: make that key (Subscriptions,
        Customers and Webhooks read and write), show it once, and say what to do in Blueprint."""
        self._check_change(request)
        if not self._may_create_keys(request):
            raise PermissionDenied
        shop = self._require_shop(request)
        context = self._context(
            request,
            title="Set up Blueprint",
            shop=shop,
            back_url=self._url(request, "changelist"),
            permissions=["Subscriptions", "Customers", "Webhooks"],
        )
        if request.method == "POST":
            key, raw = api_key_create(
                shop=shop,
                token_nickname=BLUEPRINT_NAME,
                application_nickname=BLUEPRINT_NAME,
                permissions=BLUEPRINT_PERMISSIONS,
            )
            self.log_addition(request, key, f"Created API key {key.prefix}… for Blueprint")
            context.update(key=key, raw_key=raw, title="Copy your Blueprint key")
            response = TemplateResponse(
                request, "admin/integrations/integration/blueprint_created.html", context
            )
            response["Cache-Control"] = "no-store"
            return response
        return TemplateResponse(request, "admin/integrations/integration/blueprint.html", context)


admin.site.register(Integration, IntegrationAdmin)
