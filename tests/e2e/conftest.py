"""Browser tests: Playwright's sync API driving Debian's `chromium` (headless) against pytest-django's
live_server. Skipped when chromium or the playwright package is missing; `.ci/run` installs both."""

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
try:
    from playwright import sync_api
except ImportError:  # pragma: no cover - the dev dependencies include playwright
    sync_api = None

if CHROMIUM is None:
    SKIP_REASON = (
        "browser tests need Debian's chromium package (apt-get install chromium); .ci/run installs it"
    )
elif sync_api is None:
    SKIP_REASON = "browser tests need the playwright package (pip install -r requirements.lock)"
else:
    SKIP_REASON = ""

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    """Skip every test of this directory, with the reason, when the browser cannot be driven.

    (A module-level pytest.skip() in a conftest is an error, not a skip, so it is done per item.)"""
    if not SKIP_REASON:
        return
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module", autouse=True)
def _django_allow_async_unsafe():
    """Playwright's sync API runs an event loop in the test thread; the ORM calls made there (factories,
    refresh_from_db, the database flush after each test) would otherwise raise SynchronousOnlyOperation.
    Only while these tests run: a process-wide setting would leak into other tests and their
    subprocesses (`manage.py check --deploy` refuses it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def browser(_django_allow_async_unsafe):
    """One browser per test module; the event loop stops when the module is done."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_default_navigation_timeout(TIMEOUT_MS)
    return page
