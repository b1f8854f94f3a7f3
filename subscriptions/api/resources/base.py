"""Shared pieces of the resource API: whitelisted cursor ordering, shop-scoped references, money."""

from django.db.models import Model
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers

from subscriptions.api.common import StableCursorPagination, StrictSerializer, VendorView
from subscriptions.api.smartrr_extra_serializers import ProblemSerializer
from subscriptions.errors import DomainError


class OrderedCursorPagination(StableCursorPagination):
    """Cursor paging whose `ordering` query parameter is one of the view's `ordering_fields`
    (optionally with a leading `-`). The primary key breaks ties so pages never overlap."""

    ordering_param = "ordering"

    def get_ordering(self, request, queryset, view):
        allowed = getattr(view, "ordering_fields", ())
        default = getattr(view, "default_ordering", "-id")
        wanted = request.query_params.get(self.ordering_param) or default
        if wanted.lstrip("-") not in allowed:
            choices = ", ".join(f"{name}, -{name}" for name in allowed)
            raise exceptions.ValidationError({self.ordering_param: [f"Order by one of: {choices}."]})
        tiebreak = "-id" if wanted.startswith("-") else "id"
        return (wanted, tiebreak) if wanted.lstrip("-") != "id" else (wanted,)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Must be a whole number between 1 and {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:  # DRF answers 404 for a mangled cursor; it is bad input
            raise exceptions.ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc


PROBLEMS = {
    400: "Invalid input: a bad query parameter or body field (named in `errors[].field`).",
    404: "No such object in this shop (also for a referenced id of another shop).",
    409: "Refused by a business rule; `code` says which (for example `subscription_paused`).",
}


def problems(*codes: int) -> dict[int, OpenApiResponse]:
    """Problem-details responses for the schema."""
    return {code: OpenApiResponse(ProblemSerializer, description=PROBLEMS[code]) for code in codes}


def ordering_parameter(fields: tuple[str, ...], default: str) -> OpenApiParameter:
    return OpenApiParameter(
        "ordering",
        str,
        enum=[prefix + name for name in fields for prefix in ("", "-")],
        description=f"Sort order (default `{default}`); `-` for descending.",
    )


class ResourceView(VendorView):
    pagination_class = OrderedCursorPagination
    ordering_fields: tuple[str, ...] = ("id",)
    default_ordering = "-id"

    @property
    def shop(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no key, no shop
            return None
        return super().shop

    def render(self, serializer_class, instance, **kwargs):
        return serializer_class(instance, context=self.get_serializer_context(), **kwargs).data


class InShop(serializers.IntegerField):
    """A reference by id to a row of the caller's shop. An id of another shop (or none) answers
    404 naming the field, as every other way of reaching another shop's row does."""

    def __init__(self, model: type[Model], label: str, queryset=None, **kwargs):
        self.model = model
        self.thing = label
        self.base_queryset = queryset
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # No min_value: field validators run on the returned object, not on the id.
        pk = super().to_internal_value(data)
        if pk < 1:
            raise serializers.ValidationError("Ensure this value is greater than or equal to 1.")
        queryset = self.base_queryset if self.base_queryset is not None else self.model.objects.all()
        found = queryset.filter(shop=self.context["shop"], pk=pk).first()
        if found is None:
            raise DomainError(
                "not_found", f"That {self.thing} does not exist in this shop.", field=self.field_name
            )
        return found


class Money(serializers.DecimalField):
    """An amount as a string with two decimals; the currency travels in its own field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)


class Input(StrictSerializer):
    """Strict input: unknown fields refused (StrictSerializer), and text fields take only JSON
    strings (DRF would quietly turn `5` or `true` into "5" and "True")."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            wrong = {
                name: ["Must be a string."]
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and data.get(name) is not None
                and not isinstance(data[name], str)
            }
            if wrong:
                raise serializers.ValidationError(wrong, code="invalid")
        return super().to_internal_value(data)
