"""The one hardened outbound HTTP client of the platform (webhooks now, partner adapters later).

- Only http(s). Every address a host resolves to must be public; loopback, private, link-local,
  multicast, reserved and cloud-metadata ranges are refused, unless `WEBHOOKS_ALLOW_PRIVATE_URLS`
  (development and tests only).
- The check happens when the socket connects, on the address actually dialled, so a DNS answer that
  changes between the save-time check and delivery (DNS rebinding) cannot reach an internal host.
- Timeouts on connect and read, redirects never followed, response bodies read up to a limit.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

USER_AGENT = "SubscriptionsPlatform-Webhooks/1.0 (+standard-webhooks)"
DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeURL(ValueError):
    """The URL is not http(s) or resolves to an address we refuse to call."""


def _address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip in METADATA_ADDRESSES:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_URLS", False) and (ip.is_loopback or ip.is_private):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified)


def resolve_public(host: str, port: int) -> list[tuple]:
    """getaddrinfo answers for host, refusing the whole host if any address is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnsafeURL(f"The host {host} could not be resolved.") from exc
    for info in infos:
        if not _address_allowed(info[4][0]):
            raise UnsafeURL(f"The host {host} resolves to {info[4][0]}, a private or reserved address.")
    return infos


def check_url(url: str) -> str:
    """Save-time check: well-formed http(s) URL whose host resolves only to allowed addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL("The URL must be http:// or https:// with a host name.")
    resolve_public(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    return url


class _GuardedConnectionMixin:
    def _new_conn(self):
        # Resolve and check here, then dial the checked address itself: nothing between the check
        # and the connect can swap the address.
        last_error: OSError | None = None
        for family, type_, proto, _, sockaddr in resolve_public(self._dns_host, self.port):
            sock = socket.socket(family, type_, proto)
            try:
                # urllib3's own options (TCP_NODELAY): without it headers and body go out as two
                # small writes that Nagle's algorithm and delayed ACKs hold up ~40 ms each.
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(self.timeout if isinstance(self.timeout, int | float) else DEFAULT_TIMEOUT)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                last_error = exc
                sock.close()
        raise last_error or OSError(f"could not connect to {self._dns_host}")


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies from the environment: the address check must see the real host
    session.max_redirects = 0
    adapter = GuardedAdapter(pool_connections=20, pool_maxsize=20, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


@dataclass
class HttpResult:
    status_code: int | None
    body_excerpt: str
    headers: dict
    duration_ms: int
    error: str = ""


_session: requests.Session | None = None


def session() -> requests.Session:
    """A hardened `requests` session, for callers that want requests' API (partner adapters)."""
    global _session
    if _session is None:
        _session = new_session()
    return _session


def new_pool_manager() -> urllib3.PoolManager:
    manager = urllib3.PoolManager(
        num_pools=50, maxsize=20, ca_certs=certifi.where(), headers={"User-Agent": USER_AGENT}
    )
    manager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
    return manager


_pools: urllib3.PoolManager | None = None


def pools() -> urllib3.PoolManager:
    global _pools
    if _pools is None:
        _pools = new_pool_manager()
    return _pools


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def post(
    url: str, *, body: bytes, headers: dict, timeout: float = DEFAULT_TIMEOUT, excerpt_bytes: int = 2048
) -> HttpResult:
    """POST without following redirects; never raises for network trouble, reports it instead.

    Straight on urllib3 (the guarded pools above), not through `requests`: a delivery needs none of
    requests' conveniences, and its per-request work cost about as much as the whole POST."""
    started = time.perf_counter()
    try:
        response = pools().urlopen(
            "POST",
            url,
            body=body,
            headers=headers,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            redirect=False,
            retries=False,
            preload_content=False,
        )
    except UnsafeURL as exc:
        return HttpResult(None, "", {}, _elapsed_ms(started), f"refused: {exc}")
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        return HttpResult(None, "", {}, _elapsed_ms(started), f"{exc.__class__.__name__}: {exc}"[:500])
    error = ""
    try:
        content = response.read(MAX_RESPONSE_BYTES)
        # Keep the connection only when the answer was read to its end; a longer one is cut off.
        reusable = len(content) < MAX_RESPONSE_BYTES or not response.read(1)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        content, reusable = b"", False
        error = f"{exc.__class__.__name__} while reading the response"
    if reusable:
        response.release_conn()
    else:
        response.close()
    return HttpResult(
        response.status,
        content[:excerpt_bytes].decode("utf-8", "replace"),
        dict(response.headers),
        _elapsed_ms(started),
        error,
    )
