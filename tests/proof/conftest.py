import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(settings):
    """A recording HTTP server on 127.0.0.1 (webhook URLs there are allowed for the test)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    with Receiver() as server:
        yield server


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests made straight through the WSGI application (Schemathesis' `from_wsgi`) fire
    request_started/finished, whose `close_old_connections` would close the test's database
    connection (and its transaction) on PostgreSQL; Django's test client unhooks it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
