"""Partner calls through the platform's one hardened `requests` session (webhooks.http): same
address checks, no redirects, timeouts; network trouble is reported in the result, never raised."""

import json
import time
from typing import Any

import requests

from webhooks import http
from webhooks.http import HttpResult

TIMEOUT_SECONDS = 10.0


def json_body(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> HttpResult:
    started = time.perf_counter()
    try:
        response = http.session().request(
            method, url, data=body, headers=headers, timeout=timeout, allow_redirects=False
        )
    except (requests.RequestException, OSError, ValueError) as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        return HttpResult(None, "", {}, elapsed, f"{exc.__class__.__name__}: {exc}"[:500])
    elapsed = int((time.perf_counter() - started) * 1000)
    return HttpResult(
        response.status_code,
        response.content[: http.MAX_RESPONSE_BYTES].decode("utf-8", "replace"),
        dict(response.headers),
        elapsed,
    )


def answer_json(result: HttpResult) -> dict | None:
    try:
        body = json.loads(result.body_excerpt)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def ok(result: HttpResult) -> bool:
    return result.status_code is not None and 200 <= result.status_code < 300
