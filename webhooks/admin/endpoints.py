"""Integrations > Webhooks: the shop's endpoints, each with its delivery log, replay, test events,
secret rotation and sample payloads. Writes go through webhooks.services."""

import datetime as dt
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from webhooks import engine, selectors, services
from webhooks.admin.scoping import ShopScopedAdmin
from webhooks.admin.scoping import membership as _membership
from webhooks.endpoints import KIND
from webhooks.errors import InvalidEndpoint
from webhooks.models import Delivery, WebhookEndpoint
from webhooks.registry import event_types, sample_envelope

LOG_PAGE_SIZE = 25


def _event_choices():
    return [
        (event.type, f"{event.seed_name or event.type} — {event.meaning}" if event.seed_name else event.type)
        for event in sorted(event_types().values(), key=lambda e: e.type)
    ]


class WebhookEndpointForm(forms.ModelForm):
    """Validates with the same rules as the API (webhooks.services), naming the field at fault."""

    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=_event_choices, widget=forms.CheckboxSelectMultiple, help_text="Events sent to this URL."
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["shop_id", "url", "events", "description", "enabled"]
        labels = {"url": "URL", "shop_id": "Shop id"}

    def clean(self):
        cleaned = super().clean()
        for field, check in (("url", services.validate_url), ("events", services.validate_events)):
            if field in cleaned:
                try:
                    cleaned[field] = check(cleaned[field])
                except InvalidEndpoint as exc:
                    self.add_error(field, exc.message)
        return cleaned


class DeliveryLogFilter(forms.Form):
    """Filters of an endpoint's delivery log (GET, prefixed so they never meet the change form)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Delivery.Status.choices])
    event_type = forms.ChoiceField(required=False, label="Event")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="log", **kwargs)
        self.fields["event_type"].choices = [("", "Any event"), *_event_choices()]

    def bounds(self) -> dict:
        """Selector arguments; dates are whole days in the console's time zone (`to` included)."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        zone = timezone.get_current_timezone()

        def start(day):
            return dt.datetime.combine(day, dt.time.min, tzinfo=zone) if day else None

        return {
            "status": data["status"],
            "event_type": data["event_type"],
            "since": start(data["since"]),
            "until": start(data["until"] + dt.timedelta(days=1)) if data["until"] else None,
        }


class SendTestEventForm(forms.Form):
    event_type = forms.ChoiceField(
        label="Event", help_text="A sample event of this type is sent to this URL only."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_type"].choices = _event_choices()


class ReplayFailedSinceForm(forms.Form):
    since = forms.DateTimeField(
        label="Failed deliveries created since",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ShopScopedAdmin, admin.ModelAdmin):
    """Integrations > Webhooks: the shop's endpoints. Writes go through webhooks.services."""

    form = WebhookEndpointForm
    list_display = ("url", "event_summary", "enabled", "disabled_reason", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    readonly_fields = (
        "secret",
        "previous_secret_until",
        "disabled_reason",
        "disabled_at",
        "failing_since",
        "created_at",
        "updated_at",
    )
    change_form_template = "admin/webhooks/webhookendpoint/change_form.html"

    # -- pages --------------------------------------------------------------------------------
    def get_fields(self, request, obj=None):
        fields = ["url", "events", "description", "enabled"]
        if obj is not None:
            fields += ["secret"]
            if obj.previous_secret_expires_at and obj.previous_secret_expires_at > timezone.now():
                fields += ["previous_secret_until"]
            fields += ["disabled_reason", "disabled_at", "failing_since", "created_at", "updated_at"]
        if request.user.is_superuser:
            # The shop is fixed once the endpoint exists: its secret and deliveries belong to it.
            fields = [*(["shop_id"] if obj is None else []), *fields]
        return fields

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        return [*display, "shop_id"] if request.user.is_superuser else display

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = services.endpoint_update(
                endpoint=obj,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
            )
        else:
            shop_id = data["shop_id"] if request.user.is_superuser else _membership(request.user).shop_id
            saved = services.endpoint_create(
                shop_id=shop_id,
                url=data["url"],
                events=data["events"],
                description=data.get("description", ""),
                enabled=data.get("enabled", True),
            )
        obj.__dict__.update({k: v for k, v in saved.__dict__.items() if not k.startswith("_")})

    def delete_model(self, request, obj):
        services.endpoint_delete(endpoint=obj)

    def delete_queryset(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_delete(endpoint=endpoint)

    @admin.display(description="events")
    def event_summary(self, obj) -> str:
        known = event_types()
        names = [known[e].seed_name or e if e in known else e for e in obj.events]
        return ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")

    @admin.display(description="previous secret")
    def previous_secret_until(self, obj) -> str:
        return f"Still signing until {timezone.localtime(obj.previous_secret_expires_at):%Y-%m-%d %H:%M %Z}"

    # -- endpoint page: delivery log, replay, test event, secret rotation, sample payloads -------
    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/rotate-secret/", wrap(self.rotate_secret_view), name=f"{info}_rotate_secret"
            ),
            path(
                "<int:object_id>/send-test-event/", wrap(self.send_test_event_view), name=f"{info}_send_test"
            ),
            path(
                "<int:object_id>/deliveries/<uuid:delivery_id>/replay/",
                wrap(require_POST(self.replay_view)),
                name=f"{info}_replay",
            ),
            path(
                "<int:object_id>/replay-failed/", wrap(self.replay_failed_view), name=f"{info}_replay_failed"
            ),
            path("sample-payload/<str:event_type>/", wrap(self.sample_payload_view), name=f"{info}_sample"),
            *super().get_urls(),
        ]

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def _endpoint(self, request, object_id, *, change: bool) -> WebhookEndpoint:
        endpoint = self.get_object(request, unquote(str(object_id)))
        if endpoint is None:
            raise Http404("No webhook endpoint with that id.")
        allowed = (
            self.has_change_permission(request, endpoint)
            if change
            else self.has_view_permission(request, endpoint)
        )
        if not allowed:
            raise PermissionDenied
        return endpoint

    def _back(self, endpoint, anchor: str = "") -> HttpResponseRedirect:
        return HttpResponseRedirect(self._url("change", endpoint.pk) + anchor)

    def _action_page(self, request, endpoint, *, title: str, intro: str, form=None, submit: str):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": endpoint,
            "title": title,
            "intro": intro,
            "form": form,
            "submit": submit,
            "back_url": self._url("change", endpoint.pk),
        }
        return TemplateResponse(request, "admin/webhooks/webhookendpoint/action.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        endpoint = self.get_object(request, unquote(object_id))
        if endpoint is not None and self.has_view_permission(request, endpoint):
            extra.update(self._delivery_log_context(request, endpoint))
        return super().change_view(request, object_id, form_url, extra)

    def _delivery_log_context(self, request, endpoint) -> dict:
        log_filter = DeliveryLogFilter(request.GET or None)
        deliveries = selectors.delivery_log(endpoint=endpoint, **log_filter.bounds())
        page = Paginator(deliveries, LOG_PAGE_SIZE).get_page(request.GET.get("log-page"))
        can_change = self.has_change_permission(request, endpoint)
        for delivery in page.object_list:
            delivery.replay_url = self._url("replay", endpoint.pk, delivery.pk) if can_change else ""
        query = request.GET.copy()
        query.pop("log-page", None)
        known = event_types()
        return {
            "delivery_log": page,
            "log_filter": log_filter,
            "log_query": query.urlencode(),
            "console_links": [
                *(
                    [
                        {"label": "Send test event", "url": self._url("send_test", endpoint.pk)},
                        {"label": "Replay failed…", "url": self._url("replay_failed", endpoint.pk)},
                        {"label": "Rotate secret", "url": self._url("rotate_secret", endpoint.pk)},
                    ]
                    if can_change
                    else []
                ),
            ],
            "sample_links": [
                {"label": known[t].seed_name or t if t in known else t, "url": self._url("sample", t)}
                for t in endpoint.events
            ],
        }

    def rotate_secret_view(self, request, object_id):
        endpoint = self._endpoint(request, object_id, change=True)
        if request.method == "POST":
            endpoint = services.endpoint_rotate_secret(endpoint=endpoint)
            until = timezone.localtime(endpoint.previous_secret_expires_at)
            messages.success(
                request,
                f"New signing secret created. Until {until:%Y-%m-%d %H:%M %Z} every webhook carries a "
                "signature with the old secret too: update your receiver before then.",
            )
            return self._back(endpoint)
        return self._action_page(
            request,
            endpoint,
            title="Rotate the signing secret",
            intro="A new secret signs every webhook from now on. For 24 hours the old secret signs them "
            "as well, so your receiver keeps verifying while you switch it to the new secret.",
            submit="Rotate secret",
        )

    def send_test_event_view(self, request, object_id):
        endpoint = self._endpoint(request, object_id, change=True)
        form = SendTestEventForm(request.POST or None, initial={"event_type": (endpoint.events or [""])[0]})
        if request.method == "POST" and form.is_valid():
            if not endpoint.enabled:
                messages.error(request, "This endpoint is disabled: enable it first, then send a test event.")
                return self._back(endpoint)
            delivery = services.send_test_event(endpoint=endpoint, event_type=form.cleaned_data["event_type"])
            messages.success(
                request,
                f"Test {delivery.event_type} sent (webhook-id {delivery.pk}); its result is in the delivery log.",
            )
            return self._back(endpoint, "#delivery-log")
        return self._action_page(
            request,
            endpoint,
            title="Send a test event",
            intro=f"A sample event, signed like the real ones, is sent to {endpoint.url} only.",
            form=form,
            submit="Send test event",
        )

    def replay_view(self, request, object_id, delivery_id):
        endpoint = self._endpoint(request, object_id, change=True)
        delivery = selectors.endpoint_delivery(endpoint=endpoint, delivery_id=delivery_id)
        if delivery is None:
            raise Http404("No delivery with that id for this endpoint.")
        if not endpoint.enabled:
            messages.error(request, "This endpoint is disabled: enable it first, then replay.")
        elif engine.replay([delivery]):
            messages.success(request, f"Delivery {delivery.pk} is being sent again (same webhook-id).")
        else:
            messages.warning(request, "That delivery is being sent right now; try again in a minute.")
        return self._back(endpoint, "#delivery-log")

    def replay_failed_view(self, request, object_id):
        endpoint = self._endpoint(request, object_id, change=True)
        initial = {"since": timezone.localtime() - dt.timedelta(days=1)}
        form = ReplayFailedSinceForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            if not endpoint.enabled:
                messages.error(request, "This endpoint is disabled: enable it first, then replay.")
                return self._back(endpoint)
            count = engine.replay_failed_since(
                destination_kind=KIND, destination_id=str(endpoint.pk), since=form.cleaned_data["since"]
            )
            messages.success(request, f"{count} failed deliveries are being sent again.")
            return self._back(endpoint, "#delivery-log")
        return self._action_page(
            request,
            endpoint,
            title="Replay failed deliveries",
            intro="Every delivery to this endpoint that failed (gave up) since the time below is sent "
            "again, with its original webhook-id so your receiver can deduplicate.",
            form=form,
            submit="Replay failed deliveries",
        )

    def sample_payload_view(self, request, event_type):
        if not self.has_view_permission(request):
            raise PermissionDenied
        known = event_types()
        if event_type not in known:
            raise Http404("Unknown event type.")
        user = request.user
        shop_id = None if user.is_superuser else getattr(_membership(user), "shop_id", None)
        body = json.dumps(sample_envelope(event_type, shop_id), indent=2)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Sample payload: {known[event_type].seed_name or event_type}",
            "event": known[event_type],
            "body": body,
            "event_types": [
                {"type": t, "label": e.seed_name or t, "url": self._url("sample", t)}
                for t, e in sorted(known.items())
            ],
        }
        return TemplateResponse(request, "admin/webhooks/webhookendpoint/sample_payload.html", context)
