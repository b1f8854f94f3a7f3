"""CSV export (streamed, honouring the changelist's filters and search) and CSV import (upload,
preview, confirm) pages."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from console.activity import record_staff_action
from console.exports import EXPORTS, UTC, csv_rows
from console.imports import KNOWN, import_apply, import_preview, import_upload
from console.models import SubscriptionImport
from console.views import console_shop, page, require, scoped
from subscriptions.errors import DomainError


def export_view(request, kind: str):
    require(request, "export_data")
    if kind not in EXPORTS:
        raise Http404("Nothing to export by that name.")
    model, _ = EXPORTS[kind]
    model_admin = admin.site._registry[model]
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    # Rows go out by id: a column sort of the list (possibly on a display-only column) is dropped.
    query = request.GET.copy()
    query.pop("o", None)
    request.GET = query
    try:
        changelist = model_admin.get_changelist_instance(request)
        # The changelist's own queryset carries display-only annotations: filter a plain one.
        changelist.root_queryset = model_admin.scope(request, model.objects.all())
        queryset = changelist.get_queryset(request)
    except IncorrectLookupParameters as error:
        return HttpResponseBadRequest(f"filters: {error or 'a filter in the address is not valid'}.")
    membership = getattr(request.user, "membership", None)
    tz = membership.shop.tz if membership is not None else UTC
    record_staff_action(
        user=request.user,
        shop=None,
        action="exported",
        description=f"Exported {kind} as CSV" + (f" ({request.GET.urlencode()})" if request.GET else ""),
        kind=kind,
        filters=request.GET.urlencode(),
    )
    response = StreamingHttpResponse(csv_rows(kind, queryset, tz=tz), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(tz).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{kind}-{stamp}.csv"'
    return response


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text=f"Columns: {', '.join(KNOWN)}.")


def import_view(request):
    require(request, "import_subscriptions")
    shop = console_shop(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                upload = import_upload(shop=shop, user=request.user, upload=form.cleaned_data["file"])
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                return redirect("console:import_preview", upload.pk)
        status = 400
    response = page(
        request,
        "admin/console/import_upload.html",
        {"title": "Import subscriptions", "form": form, "columns": KNOWN, "shop": shop},
    )
    response.status_code = status
    return response


def import_preview_view(request, pk: int):
    require(request, "import_subscriptions")
    upload = get_object_or_404(scoped(request, SubscriptionImport.objects.select_related("shop")), pk=pk)
    if request.method == "POST" and upload.status == SubscriptionImport.Status.UPLOADED:
        try:
            import_apply(upload=upload, user=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Imported {upload.created_count} subscription(s).")
        return redirect("console:import_preview", upload.pk)
    rows = import_preview(upload=upload) if upload.status == SubscriptionImport.Status.UPLOADED else []
    bad = sum(1 for r in rows if r.errors)
    return page(
        request,
        "admin/console/import_preview.html",
        {
            "title": f"Import {upload.file_name or upload.pk}",
            "upload": upload,
            "rows": rows,
            "bad": bad,
            "can_apply": rows and not bad and upload.status == SubscriptionImport.Status.UPLOADED,
        },
    )
