"""Recharge API 2021-11, read side: list pages of customers, addresses, payment methods and
subscriptions.

Wire format (developer.rechargepayments.com/2021-11): `X-Recharge-Access-Token` and
`X-Recharge-Version: 2021-11` headers; a list answers `{"<resource>": [...], "next_cursor": ...,
"previous_cursor": ...}`; the next page is asked for with `cursor` and `limit` only (no other
filter may ride along); `next_cursor` null means the last page. Calls fill a leaky bucket (40
calls, draining 2 per second per token): a full bucket answers 429, and we wait (Retry-After
when given, else an exponential pause) and ask again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings

from webhooks import http

API_VERSION = "2021-11"
PAGE_LIMIT = 250  # Recharge's maximum
TIMEOUT_SECONDS = 30.0
MAX_RATE_LIMIT_WAITS = 20  # a bucket drains in 20 s, so this is generous
MAX_RETRIES = 2  # network errors and 5xx: a couple of quick tries, then the run is interrupted
MAX_PAUSE_SECONDS = 60.0


def pause(seconds: float) -> None:
    """Wait before asking again (tests replace it to record the waits instead)."""
    time.sleep(seconds)


class RechargeError(Exception):
    """A call that failed for good; `field` is "api_key" when Recharge refused the key."""

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


@dataclass
class Page:
    records: list[dict]
    next_cursor: str | None


class RechargeClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        sleep: Callable[[float], None] | None = None,
        session: requests.Session | None = None,
    ):
        self.api_key = api_key
        self.base_url = (base_url or settings.RECHARGE_API_URL).rstrip("/")
        self.sleep = sleep or (lambda seconds: pause(seconds))
        self.session = session or http.session()

    def headers(self) -> dict[str, str]:
        return {
            "X-Recharge-Access-Token": self.api_key,
            "X-Recharge-Version": API_VERSION,
            "Accept": "application/json",
        }

    def list_page(self, resource: str, cursor: str | None = None, *, limit: int = PAGE_LIMIT) -> Page:
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = self._get(f"/{resource}", params)
        records = body.get(resource)
        if not isinstance(records, list):
            raise RechargeError(f"Recharge answered /{resource} without a '{resource}' list.")
        return Page(records=records, next_cursor=body.get("next_cursor") or None)

    def check_key(self) -> None:
        """One cheap call: raises RechargeError(field="api_key") when Recharge refuses the key."""
        self.list_page("customers", limit=1)

    def _get(self, path: str, params: dict) -> dict:
        url = self.base_url + path
        waits = retries = 0
        while True:
            try:
                response = self.session.get(
                    url, params=params, headers=self.headers(), timeout=TIMEOUT_SECONDS, allow_redirects=False
                )
            except (requests.RequestException, OSError, ValueError) as exc:
                if retries >= MAX_RETRIES:
                    raise RechargeError(f"Recharge could not be reached: {exc.__class__.__name__}") from exc
                retries += 1
                self.sleep(min(MAX_PAUSE_SECONDS, 2.0**retries))
                continue
            status = response.status_code
            if status == 429:
                if waits >= MAX_RATE_LIMIT_WAITS:
                    raise RechargeError("Recharge kept answering 429 (rate limit).", status=429)
                waits += 1
                self.sleep(_retry_after(response) or min(MAX_PAUSE_SECONDS, 0.5 * 2**waits))
                continue
            if status in (401, 403):
                raise RechargeError(
                    "Recharge refused the API key: check that it is right and has read access to "
                    "customers, addresses, payment methods and subscriptions.",
                    status=status,
                    field="api_key",
                )
            if status >= 500 or status == 408:
                if retries >= MAX_RETRIES:
                    raise RechargeError(f"Recharge answered {status} on {path}.", status=status)
                retries += 1
                self.sleep(min(MAX_PAUSE_SECONDS, 2.0**retries))
                continue
            if status != 200:
                raise RechargeError(
                    f"Recharge answered {status} on {path}: {_error_text(response)}", status=status
                )
            try:
                body = response.json()
            except ValueError as exc:
                raise RechargeError(f"Recharge answered {path} with something other than JSON.") from exc
            if not isinstance(body, dict):
                raise RechargeError(f"Recharge answered {path} with something other than an object.")
            return body


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(MAX_PAUSE_SECONDS, max(0.0, float(value))) if value else None
    except ValueError:
        return None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and body.get("errors"):
        return str(body["errors"])[:200]
    return str(body)[:200]
