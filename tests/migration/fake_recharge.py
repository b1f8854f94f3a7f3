"""A local stand-in for the Recharge API 2021-11, run in a thread of the test process.

It speaks the documented wire format: `X-Recharge-Access-Token` and `X-Recharge-Version: 2021-11`
headers (401 / 400 otherwise), `GET /<resource>?limit=N` answering
`{"<resource>": [...], "next_cursor": ..., "previous_cursor": ...}`, the next page asked for with
`cursor` and `limit` only (422 when another filter rides along), and errors as `{"errors": ...}`.
Tests script 429s (with Retry-After) and failures per request.
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RESOURCES = ("customers", "addresses", "payment_methods", "subscriptions")


def _cursor(resource: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{resource}:{offset}".encode()).decode()


def _offset(resource: str, cursor: str) -> int | None:
    try:
        name, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        return int(offset) if name == resource else None
    except (ValueError, UnicodeDecodeError):
        return None


class FakeRecharge:
    def __init__(self, data: dict[str, list[dict]], *, token: str = "rc_test_token", page_size: int = 2):
        self.data = {r: list(data.get(r, [])) for r in RESOURCES}
        self.token = token
        self.page_size = page_size
        self.requests: list[dict] = []  # every request: path, query, headers, answer status
        # Scripted answers by request number (1-based): {3: (429, {"Retry-After": "2"})}
        self.scripted: dict[int, tuple[int, dict]] = {}
        # (resource, offset) -> how many more times that page answers 500
        self.failing_pages: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeRecharge":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def pages_read(self, resource: str) -> list[int]:
        """Offsets of the pages of `resource` answered 200, in order."""
        return [r["offset"] for r in self.requests if r["resource"] == resource and r["status"] == 200]

    def _answer(self, path: str, query: dict, headers) -> tuple[int, dict, dict]:
        with self._lock:
            number = len(self.requests) + 1
        resource = path.strip("/")
        if headers.get("X-Recharge-Access-Token") != self.token:
            return 401, {}, {"errors": "A valid API token is required."}
        if headers.get("X-Recharge-Version") != "2021-11":
            return 400, {}, {"errors": "Unsupported X-Recharge-Version."}
        if number in self.scripted:
            status, extra = self.scripted[number]
            return status, extra, {"errors": "Too many requests." if status == 429 else "Internal error."}
        if resource not in RESOURCES:
            return 404, {}, {"errors": "Not found."}
        try:
            limit = int(query.get("limit", ["50"])[0])
        except ValueError:
            return 422, {}, {"errors": {"limit": "must be a number"}}
        if not 1 <= limit <= 250:
            return 422, {}, {"errors": {"limit": "must be between 1 and 250"}}
        offset = 0
        if "cursor" in query:
            if set(query) - {"cursor", "limit"}:
                return 422, {}, {"errors": "Only limit may be passed along with cursor."}
            offset = _offset(resource, query["cursor"][0])
            if offset is None:
                return 422, {}, {"errors": {"cursor": "is invalid"}}
        with self._lock:
            left = self.failing_pages.get((resource, offset), 0)
            if left:
                self.failing_pages[(resource, offset)] = left - 1
                return 500, {"offset": offset}, {"errors": "Internal error."}
        size = min(limit, self.page_size)
        records = self.data[resource][offset : offset + size]
        more = offset + size < len(self.data[resource])
        body = {
            resource: records,
            "next_cursor": _cursor(resource, offset + size) if more else None,
            "previous_cursor": _cursor(resource, max(0, offset - size)) if offset else None,
        }
        return 200, {"offset": offset}, body

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                status, extra, body = fake._answer(parts.path, query, self.headers)
                offset = extra.pop("offset", None)
                with fake._lock:
                    fake.requests.append(
                        {
                            "path": parts.path,
                            "resource": parts.path.strip("/"),
                            "query": {k: v[0] for k, v in query.items()},
                            "headers": dict(self.headers),
                            "status": status,
                            "offset": offset,
                        }
                    )
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler
