"""Vendor API authentication, permission and rate limit classes (named by dotted path in settings)."""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import BaseThrottle

from integrations.services import api_key_authenticate

HEADER = "HTTP_X_SMARTRR_ACCESS_TOKEN"


def raw_key_from(request) -> str | None:
    meta = request.META
    if meta.get(HEADER):
        return meta[HEADER]
    auth = meta.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


class ApiKeyUser:
    """What `request.user` is for a key: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, api_key):
        self.api_key = api_key
        self.username = f"api:{api_key.token_nickname}"

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = raw_key_from(request)
        if raw is None:
            return None
        key = api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(
                "The API key is wrong, revoked or expired.", code="invalid_api_key"
            )
        return ApiKeyUser(key), key

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) when no key was sent.
        return 'Bearer realm="vendor", header="x-smartrr-access-token"'


class HasResourcePermission(BasePermission):
    """Each vendor view declares `resource`; reads need read access, writes need read and write."""

    def has_permission(self, request, view):
        key = request.auth
        if key is None or not hasattr(key, "allows"):
            raise exceptions.NotAuthenticated("Send an API key in the x-smartrr-access-token header.")
        resource = getattr(view, "resource", None)
        if resource is None:
            return True
        write = request.method not in SAFE_METHODS
        if not key.allows(resource, write=write):
            level = "read and write" if write else "read"
            raise exceptions.PermissionDenied(
                f"This API key lacks the '{resource}' permission ({level} needed).",
                code=f"missing_permission:{resource}",
            )
        return True


class ApiKeyRateThrottle(BaseThrottle):
    """Fixed-window limit per API key in the shared cache (database or Redis), so every process
    counts against the same budget."""

    def allow_request(self, request, view):
        key = request.auth
        if key is None or not hasattr(key, "prefix"):
            return True
        limit, window = settings.VENDOR_API_RATE_LIMIT, settings.VENDOR_API_RATE_WINDOW
        now = time.time()
        bucket = int(now // window)
        cache_key = f"vendor-rl:{key.pk}:{bucket}"
        cache.add(cache_key, 0, timeout=window + 5)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=window + 5)
            count = 1
        self._wait = (bucket + 1) * window - now
        return count <= limit

    def wait(self):
        return max(1, int(self._wait + 0.999))
