"""Changelist filters of the merchant console."""

import datetime as dt

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils import timezone


class DateRangeFilter(admin.FieldListFilter):
    """A "from / to" date filter (both ends inclusive) with a few quick ranges.

    Use as `("next_billing_date", DateRangeFilter)`; the query string carries
    `<field>__gte` and `<field>__lte` as YYYY-MM-DD.
    """

    template = "admin/subscriptions/filters/date_range.html"
    quick_ranges = (
        ("Next 7 days", 0, 7),
        ("Next 30 days", 0, 30),
        ("Overdue", None, -1),
    )

    def __init__(self, field, request, params, model, model_admin, field_path):
        self.param_from = f"{field_path}__gte"
        self.param_to = f"{field_path}__lte"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.value_from = self._date(self.used_parameters.get(self.param_from))
        self.value_to = self._date(self.used_parameters.get(self.param_to))

    @staticmethod
    def _date(raw) -> dt.date | None:
        if isinstance(raw, list):
            raw = raw[-1] if raw else None
        if raw in (None, ""):
            return None
        try:
            return dt.date.fromisoformat(str(raw))
        except ValueError as exc:
            raise IncorrectLookupParameters(f"Not a date: {raw}") from exc

    def expected_parameters(self):
        return [self.param_from, self.param_to]

    def has_output(self):
        return True

    def queryset(self, request, queryset):
        if self.value_from:
            queryset = queryset.filter(**{self.param_from: self.value_from})
        if self.value_to:
            queryset = queryset.filter(**{self.param_to: self.value_to})
        return queryset

    def choices(self, changelist):
        today = timezone.localdate()
        links = [
            {
                "display": "Any date",
                "selected": not (self.value_from or self.value_to),
                "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            }
        ]
        for label, start, end in self.quick_ranges:
            params = {}
            if start is not None:
                params[self.param_from] = (today + dt.timedelta(days=start)).isoformat()
            params[self.param_to] = (today + dt.timedelta(days=end)).isoformat()
            links.append(
                {
                    "display": label,
                    "selected": self.value_from == self._date(params.get(self.param_from))
                    and self.value_to == self._date(params[self.param_to]),
                    "query_string": changelist.get_query_string(params, remove=self.expected_parameters()),
                }
            )
        # The from/to form keeps every other filter and the search term as hidden inputs.
        hidden = [
            (key, value)
            for key, values in changelist.filter_params.items()
            if key not in self.expected_parameters()
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {
            "links": links,
            "param_from": self.param_from,
            "param_to": self.param_to,
            "value_from": self.value_from.isoformat() if self.value_from else "",
            "value_to": self.value_to.isoformat() if self.value_to else "",
            "hidden": hidden,
        }


class RelatedOnlyWithLabelsFilter(admin.RelatedOnlyFieldListFilter):
    """Like RelatedOnlyFieldListFilter (choices: only what the user's rows refer to), but loads the
    choices with `select_related` so labels that span a relation cost no query per choice."""

    select_related: tuple[str, ...] = ()

    def field_choices(self, field, request, model_admin):
        pk_qs = model_admin.get_queryset(request).distinct().values_list(f"{self.field_path}__pk", flat=True)
        choices = field.related_model._default_manager.filter(pk__in=pk_qs).select_related(
            *self.select_related
        )
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            choices = choices.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in choices]


class PlanFilter(RelatedOnlyWithLabelsFilter):
    select_related = ("program",)
