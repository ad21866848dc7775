"""End-to-end fixtures: Django's live server and headless Debian Chromium, driven by Playwright.

The browser is the system one (/usr/bin/chromium, `make browser`); nothing is downloaded.
Screenshots land in test-artifacts/ (git-ignored) for a human to look at after a run.
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test.utils import override_settings

from .helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS, shot

# Playwright's sync API keeps an asyncio loop running in the test thread; the ORM calls the
# tests make between browser steps are synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def live_server(request) -> Iterator:
    """pytest-django's live server, over plain HTTP.

    Outside DEBUG the settings turn on SECURE_SSL_REDIRECT, which SecurityMiddleware reads
    once, when the server thread builds its handler; so it is switched off while the
    server starts, and only then.
    """
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    """Session and CSRF cookies must travel over the live server's http://."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium for one test module. Not for the whole session: while Playwright's sync API
    runs, the main thread works in another context, and a test of another folder run after
    it would open a database connection the end of the session cannot close (PostgreSQL
    then refuses to drop the test database)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)")
    from playwright.sync_api import sync_playwright

    # launch() gives every run a fresh temporary profile and removes it on close.
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server, request):
    """Open pages in fresh browser contexts: `new_page(viewport=PHONE, locale="zh-CN")`.

    Each context is its own cookie jar, so a second login never inherits the first.
    """
    contexts = []

    def make(viewport=None, locale="en-US"):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            locale=locale,
            is_mobile=bool(viewport and viewport["width"] < 576),
            has_touch=bool(viewport and viewport["width"] < 576),
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                # A crashed page must not hide the test's own failure.
                with contextlib.suppress(Exception):
                    shot(page, f"{request.node.name}-FAILED-{n}-{m}")
    for context in contexts:
        context.close()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so fixtures can screenshot a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
