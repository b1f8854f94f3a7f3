"""Integrations > Recharge migration in the console: connect with an API key, start a dry run or an
import, watch its progress bar, read what cannot be mapped and why, resume an interrupted import.

Every change goes through `migration.services`. Staff work on their own shop; a superuser picks a
shop with `?shop=<id>`. Another shop's run answers 404.
"""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from migration import services
from migration.models import RESOURCE_LABELS, RESOURCES, MigrationIssue, MigrationRun
from subscriptions.admin.tenancy import ConsoleModelAdmin, ConsoleTabularInline, user_shop_id
from subscriptions.errors import DomainError
from subscriptions.models import Shop


class ConnectForm(forms.Form):
    api_key = forms.CharField(
        label="Recharge API key",
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Recharge: Apps > API tokens; read access to customers, addresses, payment "
        "methods and subscriptions.",
    )


class IssueInline(ConsoleTabularInline):
    model = MigrationIssue
    fields = ("resource", "external_id", "reason")
    readonly_fields = fields
    can_delete = False
    verbose_name = "record that cannot be mapped"
    verbose_name_plural = "records that cannot be mapped"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def progress_bar(run: MigrationRun) -> str:
    return format_html(
        '<progress max="100" value="{}" aria-label="progress">{}%</progress> {}%',
        run.progress_percent,
        run.progress_percent,
        run.progress_percent,
    )


@admin.register(MigrationRun)
class MigrationRunAdmin(ConsoleModelAdmin):
    change_list_template = "admin/migration/changelist.html"
    change_form_template = "admin/migration/run.html"
    list_display = ("__str__", "mode", "status", "progress", "summary", "created_at", "finished_at")
    list_filter = ("mode", "status")
    fields = (
        "mode",
        "status",
        "progress",
        "counts_table",
        "error",
        "created_at",
        "started_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (IssueInline,)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        return progress_bar(obj)

    @admin.display(description="records")
    def summary(self, obj):
        return ", ".join(
            f"{RESOURCE_LABELS[r]}: {obj.count(r, 'new')} new, {obj.count(r, 'unmappable')} cannot be mapped"
            for r in RESOURCES
            if r in obj.counts
        )

    @admin.display(description="records")
    def counts_table(self, obj):
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    RESOURCE_LABELS[r],
                    obj.count(r, "new"),
                    obj.count(r, "existing"),
                    obj.count(r, "unmappable"),
                )
                for r in RESOURCES
            ),
        )
        head = "to import" if obj.mode == MigrationRun.Mode.DRY_RUN else "imported"
        return format_html(
            "<table><thead><tr><th></th><th>{}</th><th>already here</th><th>cannot be mapped</th>"
            "</tr></thead><tbody>{}</tbody></table>",
            head,
            rows,
        )

    # -- pages -----------------------------------------------------------------------------
    def get_urls(self):
        return [
            path("connect/", self.admin_site.admin_view(self.connect_view), name="migration_connect"),
            path("start/<str:mode>/", self.admin_site.admin_view(self.start_view), name="migration_start"),
            path("<int:pk>/resume/", self.admin_site.admin_view(self.resume_view), name="migration_resume"),
            *super().get_urls(),
        ]

    def _shop(self, request) -> Shop:
        if not self.has_view_permission(request):
            raise Http404("No such page.")
        if request.user.is_superuser:
            shop_id = request.GET.get("shop") or request.POST.get("shop")
            shop = Shop.objects.filter(pk=shop_id).first() if str(shop_id).isdigit() else None
            if shop is None:
                raise Http404("Choose a shop first (?shop=<id>).")
            return shop
        return Shop.objects.get(pk=user_shop_id(request.user))

    def _back(self, request, shop: Shop) -> HttpResponseRedirect:
        url = reverse("admin:migration_migrationrun_changelist")
        return HttpResponseRedirect(f"{url}?shop={shop.pk}" if request.user.is_superuser else url)

    def changelist_view(self, request, extra_context=None):
        shop = None
        try:
            shop = self._shop(request)
        except Http404:
            if not request.user.is_superuser:
                raise
        integration = services.recharge_integration(shop) if shop else None
        context = {
            "console_shop": shop,
            "recharge_connected": integration is not None,
            "connect_form": ConnectForm(),
            "active_run": MigrationRun.objects.filter(
                shop=shop, status__in=(MigrationRun.Status.QUEUED, MigrationRun.Status.RUNNING)
            ).first()
            if shop
            else None,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def connect_view(self, request):
        shop = self._shop(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = ConnectForm(request.POST)
        if form.is_valid():
            try:
                services.recharge_connect(shop=shop, api_key=form.cleaned_data["api_key"])
            except DomainError as exc:
                form.add_error("api_key" if exc.field == "api_key" else None, exc.message)
            else:
                messages.success(request, "Recharge is connected. Start with a dry run.")
                return self._back(request, shop)
        request.method = "GET"  # render the list with the form and its errors
        response = self.changelist_view(request, {"connect_form": form})
        response.status_code = 400
        return response

    def start_view(self, request, mode: str):
        shop = self._shop(request)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            run = services.migration_start(shop=shop, mode=mode)
        except DomainError as exc:
            messages.error(request, exc.message)
            return self._back(request, shop)
        messages.success(request, f"{run.get_mode_display()} started.")
        return HttpResponseRedirect(reverse("admin:migration_migrationrun_change", args=[run.pk]))

    def resume_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        run = self.get_queryset(request).filter(pk=pk).first()
        if run is None:
            raise Http404("No migration run with that id.")
        try:
            services.migration_resume(run=run)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The import carries on from where it stopped.")
        return HttpResponseRedirect(reverse("admin:migration_migrationrun_change", args=[run.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if run is None:
            raise Http404("No migration run with that id.")
        context = {
            "run": run,
            "refresh": run.status in (MigrationRun.Status.QUEUED, MigrationRun.Status.RUNNING),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)
