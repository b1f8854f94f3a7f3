"""Suite-wide settings for speed: a cheap password hasher (logins in console tests)."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_sign_in_lockout(settings):
    """django-axes needs the request in authenticate(), which `client.login()` does not pass; the
    lockout itself is tested in tests/console/test_sign_in.py with axes switched back on."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_inline():
    """No broker in tests: tasks run inline when enqueued (after commit, as in production)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


# Documentation domains stand in for merchants' public servers; no test may need the internet, so
# they resolve to a fixed public address (webhook URLs are checked against DNS when saved).
EXAMPLE_PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def _example_domains_resolve(monkeypatch):
    import socket

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else (host or "")
        if name.rstrip(".").endswith(("example.com", "example.org", "example.net")):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (EXAMPLE_PUBLIC_ADDRESS, port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
