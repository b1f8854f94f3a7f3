"""The Shopify Admin GraphQL client: one POST per call to
`https://{shop}.myshopify.com/admin/api/{SHOPIFY_API_VERSION}/graphql.json` with the shop's Admin
API token, through the platform's hardened `requests` session (integrations.partner_http).

Shopify limits each app and shop by calculated query cost (a leaky bucket). Every answer carries
`extensions.cost` (`requestedQueryCost`, `throttleStatus.currentlyAvailable / maximumAvailable /
restoreRate`); the client remembers the last status and, before the next call, waits until the
bucket holds what that call is likely to cost. A THROTTLED error, a 429 or a 5xx / network failure
is retried a few times with backoff; what is still failing is raised as a `ShopifyError` that says
whether trying again later can help (`retryable`) and after how long (`retry_after`).
"""

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations import partner_http
from integrations.partners import retry_after as header_retry_after

MAX_ATTEMPTS = 4
# Longer waits than this are not slept through in a worker: the caller is told to come back later.
MAX_SLEEP_SECONDS = 20.0
BACKOFF_SECONDS = (1.0, 2.0, 4.0)
# The cost assumed for a first call, before Shopify told us anything about the bucket.
DEFAULT_COST = 10.0


class ShopifyError(Exception):
    """`kind`: auth (401/403: the token is wrong or lacks a scope), not_found, throttled, unavailable
    (5xx or network), refused (GraphQL errors or userErrors: the request itself is wrong)."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after: dt.timedelta | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.field = field

    @property
    def retryable(self) -> bool:
        return self.kind in ("throttled", "unavailable")


@dataclass
class Bucket:
    """What Shopify last said about the shop's query budget."""

    available: float | None = None
    maximum: float | None = None
    restore_rate: float | None = None
    last_cost: float = DEFAULT_COST

    def update(self, extensions: dict | None) -> None:
        cost = (extensions or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            if status:
                self.available = float(status["currentlyAvailable"])
                self.maximum = float(status["maximumAvailable"])
                self.restore_rate = float(status["restoreRate"])
            if cost.get("requestedQueryCost") is not None:
                self.last_cost = float(cost["requestedQueryCost"])
        except (KeyError, TypeError, ValueError):
            pass

    def refilled(self, seconds: float) -> None:
        """The bucket after `seconds` of waiting (it leaks back at the restore rate)."""
        if self.available is not None and self.restore_rate:
            self.available += seconds * self.restore_rate
            if self.maximum is not None:
                self.available = min(self.available, self.maximum)

    def seconds_until(self, needed: float) -> float:
        """How long until the bucket holds `needed` points (0 when it already does or is unknown)."""
        if self.available is None or not self.restore_rate:
            return 0.0
        if self.maximum is not None:
            needed = min(needed, self.maximum)
        missing = needed - self.available
        return 0.0 if missing <= 0 else math.ceil(missing / self.restore_rate * 10) / 10


def graphql_url(shop_domain: str) -> str:
    return f"https://{shop_domain}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json"


def _error_text(errors) -> str:
    if isinstance(errors, list):
        return "; ".join(str((e or {}).get("message") or e) for e in errors)[:500]
    return str(errors)[:500]


def _codes(errors) -> set[str]:
    if not isinstance(errors, list):
        return set()
    return {str(((e or {}).get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)}


class ShopifyClient:
    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        sleep: Callable[[float], None] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        max_sleep: float = MAX_SLEEP_SECONDS,
    ):
        self.shop_domain = shop_domain
        self.access_token = access_token
        self.bucket = Bucket()
        self._sleep = sleep or time.sleep
        self.max_attempts = max_attempts
        self.max_sleep = max_sleep

    # -- the wire -------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Shopify-Access-Token": self.access_token,
        }

    def _wait(self, seconds: float, reason: str) -> None:
        if seconds <= 0:
            return
        if seconds > self.max_sleep:
            raise ShopifyError(
                f"Shopify asks us to wait {seconds:.0f} s ({reason})",
                kind="throttled",
                retry_after=dt.timedelta(seconds=math.ceil(seconds)),
            )
        self._sleep(seconds)
        self.bucket.refilled(seconds)

    def execute(self, query: str, variables: dict | None = None) -> dict[str, Any]:
        """The `data` of one GraphQL call; raises ShopifyError when Shopify refused or stayed away."""
        body = partner_http.json_body({"query": query, "variables": variables or {}})
        last: ShopifyError | None = None
        for attempt in range(self.max_attempts):
            # Cost-based throttling: do not send what the bucket cannot pay for yet.
            self._wait(self.bucket.seconds_until(self.bucket.last_cost), "query budget low")
            result = partner_http.request(
                "POST", graphql_url(self.shop_domain), headers=self._headers(), body=body
            )
            backoff = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
            code = result.status_code
            if code is None:
                last = ShopifyError(f"Shopify could not be reached: {result.error}", kind="unavailable")
            elif code in (401, 403):
                raise ShopifyError(
                    "Shopify refused the access token"
                    if code == 401
                    else "the access token lacks an access scope this needs",
                    kind="auth",
                    status=code,
                    field="access_token",
                )
            elif code == 404:
                raise ShopifyError(f"no shop answers at {self.shop_domain}", kind="not_found", status=404)
            elif code == 429:
                wait = header_retry_after(result.headers)
                backoff = wait.total_seconds() if wait is not None else backoff
                last = ShopifyError("Shopify answered 429 (too many requests)", kind="throttled", status=429)
            elif code >= 500:
                last = ShopifyError(f"Shopify answered {code}", kind="unavailable", status=code)
            elif code != 200:
                raise ShopifyError(
                    f"Shopify answered {code}: {result.body_excerpt[:200]}", kind="refused", status=code
                )
            else:
                answer = partner_http.answer_json(result)
                if answer is None:
                    last = ShopifyError("Shopify answered with something other than JSON", kind="unavailable")
                else:
                    self.bucket.update(answer.get("extensions"))
                    errors = answer.get("errors")
                    if not errors:
                        return answer.get("data") or {}
                    if "THROTTLED" in _codes(errors):
                        backoff = max(self.bucket.seconds_until(self.bucket.last_cost), 1.0)
                        last = ShopifyError(f"THROTTLED: {_error_text(errors)}", kind="throttled", status=200)
                    else:
                        raise ShopifyError(_error_text(errors) or "Shopify refused the call", kind="refused")
            if attempt + 1 < self.max_attempts:
                self._wait(backoff, last.message)
        last.retry_after = last.retry_after or dt.timedelta(seconds=60)
        raise last


def user_errors(payload: dict | None) -> str:
    """`userErrors` of a mutation payload as one line ('' when there are none)."""
    errors = (payload or {}).get("userErrors") or []
    return "; ".join(
        f"{'.'.join(map(str, e.get('field') or []))}: {e.get('message')}".lstrip(": ") for e in errors
    )


def gid(kind: str, number) -> str:
    return f"gid://shopify/{kind}/{number}"


def legacy_id(value) -> str:
    """'gid://shopify/Product/123' or 123 -> '123'."""
    return str(value or "").rsplit("/", 1)[-1]


def dumps(data) -> str:
    return json.dumps(data, separators=(",", ":"))
