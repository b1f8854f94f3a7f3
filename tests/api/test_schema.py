"""The OpenAPI document of the vendor API: served without a key, valid, documenting authentication
and the problem answer, and true: real answers of every endpoint validate against it. The docs page
uses local assets only, and they are served."""

import copy
import io
import re
from functools import cache

import pytest
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft202012Validator

from tests.api.endpoint_catalogue import (
    client_with,
    documented_operation,
    make_world,
    openapi_document,
    send,
    vendor_endpoints,
)

pytestmark = pytest.mark.django_db
OPENAPI_JSON = "application/vnd.oai.openapi+json"


def openapi() -> dict:
    return openapi_document()


def operation_of(ep) -> dict | None:
    return documented_operation(ep)


def is_hidden_alias(ep) -> bool:
    """The Smartrr actions also answer POST, deliberately left out of the document (PUT is documented)."""
    item = openapi()["paths"].get(ep.template, {})
    return ep.method == "POST" and "post" not in item and "put" in item


DOCUMENTED = [ep for ep in vendor_endpoints() if not is_hidden_alias(ep)]


def test_schema_is_served_without_a_key_as_openapi_3():
    response = Client().get("/vendor/schema/", HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Vendor API"
    assert "/vendor/order/formatted" in document["paths"]
    yaml = Client().get("/vendor/schema/")
    assert yaml.status_code == 200 and b"openapi: 3." in yaml.content


def test_manage_spectacular_validate_passes_without_errors():
    out, err = io.StringIO(), io.StringIO()
    call_command("spectacular", "--validate", "--format", "openapi-json", stdout=out, stderr=err)
    assert '"openapi": "3.' in out.getvalue()
    assert "Error [" not in err.getvalue(), err.getvalue()
    assert not re.search(r"Errors:\s+[1-9]", err.getvalue()), err.getvalue()


def test_every_vendor_operation_is_documented():
    missing = [ep.id for ep in DOCUMENTED if operation_of(ep) is None]
    assert missing == [], missing


def test_authentication_is_documented():
    document = openapi()
    schemes = document["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "x-smartrr-access-token"}.items() <= schemes[
        "SmartrrAccessToken"
    ].items()
    assert {"type": "http", "scheme": "bearer"}.items() <= schemes["BearerApiKey"].items()
    for ep in DOCUMENTED:
        operation = operation_of(ep)
        assert operation["security"] == [{"SmartrrAccessToken": []}, {"BearerApiKey": []}], ep.id


def test_problem_answers_are_documented():
    document = openapi()
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "errors"}
    ref = {"$ref": "#/components/schemas/Problem"}
    for ep in DOCUMENTED:
        operation = operation_of(ep)
        expected = {"400", "401", "403", "429"} | ({"404"} if ep.params else set())
        if ep.has_body:
            expected |= {"413", "415", "422"}
        for code in expected:
            content = operation["responses"][code]["content"]
            assert content["application/problem+json"]["schema"] == ref, (ep.id, code)
        assert "Retry-After" in operation["responses"]["429"]["headers"]
        if ep.has_body:
            assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), ep.id


# ------------------------------------------------------------------ real answers against the schema


def _json_schema(node, *, strict: bool):
    """OpenAPI 3.0 schema object -> JSON Schema 2020-12 (`nullable` becomes a null alternative).
    With `strict`, objects with listed properties refuse unlisted ones, so an answer carrying an
    undocumented field fails too."""
    if isinstance(node, list):
        return [_json_schema(item, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value, strict=strict) for key, value in node.items()}
    if strict and "properties" in node and "additionalProperties" not in node and "allOf" not in node:
        node["additionalProperties"] = False
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _components(strict: bool = True) -> dict:
    return _json_schema(copy.deepcopy(openapi()["components"]), strict=strict)


def assert_matches_schema(ep, response):
    operation = operation_of(ep)
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented, f"{ep.id} answered {status}, documented: {sorted(documented)}"
    content = documented[status].get("content")
    if not content:
        assert not response.content, f"{ep.id}: {status} is documented without a body"
        return
    content_type = response["Content-Type"].split(";")[0]
    assert content_type in content, f"{ep.id}: {status} {content_type} not in {list(content)}"
    schema = _json_schema(content[content_type]["schema"], strict=True)
    validator = Draft202012Validator({**schema, "components": _components()})
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{ep.id} {status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
    )


@pytest.mark.parametrize("ep", DOCUMENTED, ids=lambda ep: ep.id)
def test_real_answer_matches_the_schema(api, shop, ep):
    world = make_world(shop)
    response = send(api, ep, world)
    assert response.status_code < 500
    assert_matches_schema(ep, response)


@pytest.mark.parametrize(
    "ep",
    [ep for ep in vendor_endpoints() if ep.params][:1] + [ep for ep in vendor_endpoints() if ep.has_body][:1],
    ids=lambda ep: ep.id,
)
def test_problem_answers_match_the_schema(shop, ep):
    world = make_world(shop)
    assert_matches_schema(ep, send(client_with(None), ep, world))
    assert_matches_schema(ep, send(client_with("sk_nope.nope", bearer=True), ep, world))


# ---------------------------------------------------------------------------------------- docs


def test_docs_page_uses_only_local_assets_and_they_are_served():
    client = Client()
    page = client.get("/vendor/docs/")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I), html
    assert not re.search(r"https?://", html), "the docs page names an external address"
    assets = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html, re.I)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body, asset
    # The page loads the schema from this server.
    assert "/vendor/schema/" in html
