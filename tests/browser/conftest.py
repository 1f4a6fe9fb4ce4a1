"""Browser tests: Debian's Chromium driven by Playwright against Django's live server.

No browser is downloaded (the machines have no internet): Playwright launches /usr/bin/chromium,
which `make setup` installs. Test settings configure no tile servers, and every page asserts
that no request left the live server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("GEOGRID_CHROMIUM", "/usr/bin/chromium")
# `make screenshots` points this at docs/screenshots to refresh the README's pictures.
ARTIFACTS = Path(
    os.environ.get("GEOGRID_SCREENSHOT_DIR")
    or Path(__file__).resolve().parents[2] / "var" / "test-artifacts"
)
JS_ERRORS: dict[int, list[str]] = {}
# Playwright's sync API runs an event loop in this thread; the ORM calls our tests make in
# between are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


def _context(browser, live_server, **options) -> Iterator:
    context = browser.new_context(locale="zh-CN", **options)
    outside: list[str] = []

    def guard(route) -> None:
        # Nothing may leave the live server: record and refuse anything else.
        if route.request.url.startswith((live_server.url, "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    JS_ERRORS[id(page)] = errors
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    JS_ERRORS.pop(id(page), None)
    context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside[:5]}"


@pytest.fixture
def page(browser, live_server) -> Iterator:
    yield from _context(browser, live_server, viewport={"width": 1280, "height": 900})


@pytest.fixture
def phone(browser, live_server) -> Iterator:
    """A phone-sized page (390×844, touch), as residents use the report page."""
    yield from _context(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )


@pytest.fixture
def categories(transactional_db) -> None:
    """The category taxonomy. Transactional tests flush what the data migration loaded."""
    from layers.appeals.categories import load_categories

    load_categories()


def js_errors(page) -> list[str]:
    """Uncaught JavaScript errors the page has raised so far."""
    return JS_ERRORS[id(page)]


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact (var/test-artifacts/, kept after the run)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
