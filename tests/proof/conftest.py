import pytest

from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver(settings):
    """A recording HTTP server on 127.0.0.1 (webhook URLs there are allowed for the test)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    with Receiver() as server:
        yield server
