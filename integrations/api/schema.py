"""OpenAPI documentation of the vendor API's cross-cutting parts: how to authenticate (an API key in
`x-smartrr-access-token` or as a bearer token) and the RFC 9457 problem answer of every error.

Imported from `IntegrationsConfig.ready()` so drf-spectacular finds the authentication extension;
the hook is listed in `SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details, answered with `Content-Type: application/problem+json`.",
        "required": ["type", "title", "status", "detail", "code", "errors"],
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "Identifies the kind of problem."},
            "title": {"type": "string", "description": "Short summary of the kind of problem."},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "detail": {"type": "string", "description": "What went wrong with this request, for people."},
            "code": {
                "type": "string",
                "description": "Machine-readable reason, e.g. `validation_error`, `not_found`, "
                "`subscription_paused`, `missing_permission:subscriptions`, `rate_limited`.",
            },
            "errors": {
                "type": "array",
                "description": "One entry per input at fault (empty when no field is to blame).",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
    },
    "ProblemFieldError": {
        "type": "object",
        "required": ["field", "message", "code"],
        "properties": {
            "field": {
                "type": "string",
                "nullable": True,
                "description": "The input at fault, e.g. `nextBillingDate` or `items[0].quantity`.",
            },
            "message": {"type": "string"},
            "code": {"type": "string"},
        },
    },
}

ERRORS = {
    "400": "Invalid input: malformed JSON, a wrong type or unknown field, a bad query parameter.",
    "401": "No API key, or a wrong, revoked or expired one.",
    "403": "The API key lacks the permission this operation needs (named in `detail` and `code`).",
    "404": "No such object in this shop.",
    "409": "Refused by a business rule (e.g. pausing a paused subscription); `code` says which.",
    "413": "The request body is too large.",
    "415": "The body is not JSON (`Content-Type: application/json`).",
    "422": "The `Idempotency-Key` was already used with a different request.",
    "429": "Rate limit exceeded; retry after `Retry-After` seconds.",
}
WRITE_METHODS = {"post", "put", "patch"}
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Send the same key when retrying: the first answer is replayed (header "
    "`Idempotent-Replayed: true`) for 24 hours and the action runs once.",
}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api.auth.ApiKeyAuthentication"
    name = ["SmartrrAccessToken", "BearerApiKey"]

    def get_security_requirement(self, auto_schema):
        return [{"SmartrrAccessToken": []}, {"BearerApiKey": []}]  # either header

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "x-smartrr-access-token",
                "description": "An API key (Integrations > API Keys), `sk_...`.",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "The same API key as `Authorization: Bearer sk_...`.",
            },
        ]


def _error_codes(path: str, method: str, operation: dict) -> list[str]:
    codes = ["400", "401", "403", "429"]
    if "{" in path:
        codes.append("404")
    if method != "get":
        codes.append("409")
    if method in WRITE_METHODS:
        codes += ["413", "415", "422"]
    if not operation.get("security"):
        codes = [c for c in codes if c not in ("401", "403", "429")]
    return sorted(codes)


def add_problem_responses(result, generator, request, public):
    """Postprocessing hook: the Problem schema as a component, referenced by every operation's
    error answers (documented ones are kept), and the Idempotency-Key header on writes."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(PROBLEM_SCHEMAS)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, documented in operation["responses"].items():
                content = documented.get("content", {})
                if code >= "400" and content.get("application/json", {}).get("schema") == PROBLEM_REF:
                    # Every error is answered as application/problem+json, whatever a view declared.
                    content["application/problem+json"] = content.pop("application/json")
            for code in _error_codes(path, method, operation):
                response = {
                    "description": ERRORS[code],
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                }
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    }
                operation["responses"].setdefault(code, response)
            if method in WRITE_METHODS:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(dict(IDEMPOTENCY_HEADER))
    return result
