"""Plumbing shared by every vendor API view: one error shape, strict input, paging, tenancy."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from subscriptions.errors import DomainError

PROBLEM_TYPE_BASE = "https://docs.subscriptions.example/errors/"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _field_errors(detail, prefix: str = "") -> list[dict]:
    """Flatten DRF's nested error detail into [{field, message, code}]."""
    out: list[dict] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF keys list items by index: {"items": {0: {...}}}
                out.extend(_field_errors(value, f"{prefix}[{key}]"))
                continue
            name = key if key != "non_field_errors" else ""
            field = f"{prefix}.{name}" if prefix and name else (name or prefix)
            out.extend(_field_errors(value, field))
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                out.extend(_field_errors(value, f"{prefix}[{index}]"))
            else:
                out.extend(_field_errors(value, prefix))
    else:
        out.append(
            {"field": prefix or None, "message": str(detail), "code": getattr(detail, "code", "invalid")}
        )
    return out


def problem(
    status_code: int, title: str, detail: str, code: str, errors: list[dict] | None = None, headers=None
) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + code.split(":")[0],
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        # Always present (maybe empty) so clients and the schema see one shape.
        "errors": errors or [],
    }
    response = Response(body, status=status_code, headers=headers)
    response.content_type = "application/problem+json"
    return response


TITLES = {
    400: "Invalid request",
    401: "Not authenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict with the subscription's state",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
}


def exception_handler(exc, context):
    """RFC 9457 problem details for every error the vendor API answers."""
    if isinstance(exc, DomainError):
        errors = [{"field": exc.field, "message": exc.message, "code": exc.code}] if exc.field else None
        status_code = 404 if exc.code == "not_found" else 409
        return problem(status_code, TITLES[status_code], exc.message, exc.code, errors)
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let Django log it and answer 500
    status_code = response.status_code
    headers = {k: v for k, v in response.headers.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = errors[0] if errors else {"field": None, "message": "Invalid input."}
        detail = f"{first['field']}: {first['message']}" if first.get("field") else first["message"]
        return problem(400, TITLES[400], detail, "validation_error", errors, headers)
    if isinstance(exc, Http404):
        return problem(404, TITLES[404], "No such object in this shop.", "not_found", headers=headers)
    detail = getattr(exc, "detail", str(exc))
    code = detail.code if hasattr(detail, "code") else getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
        detail = f"Rate limit exceeded; retry in {exc.wait and int(exc.wait)} seconds."
    return problem(status_code, TITLES.get(status_code, "Error"), str(detail), str(code), headers=headers)


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not know (a typo must not be silently ignored)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["Send a JSON object."]}, code="invalid")
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in unknown}, code="unknown_field"
            )
        return super().to_internal_value(data)


class SmartrrPagination(PageNumberPagination):
    """`pageNumber` (0-based, as Smartrr) and `pageSize` (max 250)."""

    page_query_param = "pageNumber"
    page_size_query_param = "pageSize"
    page_size = 50
    max_page_size = 250

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param, "0")
        try:
            number = int(raw)
        except ValueError as exc:
            raise exceptions.ValidationError({"pageNumber": ["Must be a whole number."]}) from exc
        if number < 0:
            raise exceptions.ValidationError({"pageNumber": ["Must be 0 or more."]})
        return number + 1

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError as exc:
            raise exceptions.ValidationError({"pageSize": ["Must be a whole number."]}) from exc
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError({"pageSize": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def paginate_queryset(self, queryset, request, view=None):
        """A page past the last one is an empty page (as Smartrr answers), not a 404."""
        self.request = request
        paginator = self.django_paginator_class(queryset, self.get_page_size(request))
        self.paginator, self.number = paginator, self.get_page_number(request, paginator)
        if self.number > paginator.num_pages:
            return []
        self.page = paginator.page(self.number)
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "data": data,
                "pageNumber": self.number - 1,
                "pageSize": self.paginator.per_page,
                "pageCount": self.paginator.num_pages,
                "totalCount": self.paginator.count,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "pageNumber", "pageSize", "pageCount", "totalCount"],
            "properties": {
                "data": schema,
                "pageNumber": {"type": "integer"},
                "pageSize": {"type": "integer"},
                "pageCount": {"type": "integer"},
                "totalCount": {"type": "integer"},
            },
        }


class StableCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 250
    ordering = "-id"


class VendorView(GenericAPIView):
    """Base of every vendor API view. Subclasses set `resource` (the API key permission needed)."""

    resource: str | None = None

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.VENDOR_API_MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The request body is larger than {settings.VENDOR_API_MAX_BODY_BYTES} bytes."
            )
        super().initial(request, *args, **kwargs)

    @property
    def shop(self):
        return self.request.auth.shop

    @property
    def actor(self):
        from subscriptions.actors import Actor

        key = self.request.auth
        # A key made for an integration (Gorgias's widget buttons) acts as that integration.
        integration = getattr(key, "integration_name", "")
        return Actor.integration(integration) if integration else Actor.api(key.token_nickname)

    def parse(self, serializer_class, data=None):
        serializer = serializer_class(
            data=self.request.data if data is None else data, context={"view": self, "shop": self.shop}
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def vendor_page_not_found(request, exception=None):
    """Django's 404 for URLs no route matches: a problem document under /vendor/ (an id that is not
    a number, a path with a typo), Django's own page elsewhere."""
    if not request.path.startswith("/vendor/"):
        from django.views.defaults import page_not_found

        return page_not_found(request, exception)
    body = {
        "type": PROBLEM_TYPE_BASE + "not_found",
        "title": TITLES[404],
        "status": 404,
        "detail": "No such resource.",
        "code": "not_found",
        "errors": [],
    }
    return JsonResponse(body, status=404, content_type="application/problem+json")
