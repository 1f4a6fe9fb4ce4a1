"""Every screen works under the Content-Security-Policy (geogrid/settings.py, django-csp): the
report and follow pages, the dispatcher's dashboard, the grid editor, the API docs and the
admin's map. Any violation the browser reports fails the test, and each page must have drawn
what it draws (Leaflet panes and shapes, Swagger's operations, the appeal's photo)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from geogrid.models import Grid, Post
from layers.appeals.intake import AppealInput, submit_appeal
from tests.browser.conftest import js_errors
from tests.factories import assign, make_user
from tests.layers.factories import DISTRICT, A, make_city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]

# Runs before any page script, and is not subject to the page's policy (Playwright injects it).
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (160, 120), (220, 90, 30)).save(out, format="JPEG")
    return SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")


def watch(page) -> list[str]:
    """CSP messages on the console and violation events, from now on."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text)
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None)
    page.add_init_script(LISTEN)
    return console


def visit(page, url: str, console: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (url, policy)


def violations(page, console: list[str]) -> list[str]:
    """What the current page reported (and the console since the last call)."""
    found = console + page.evaluate("window.__csp || []")
    console.clear()
    return found


def photo_loaded(page, selector: str) -> None:
    page.wait_for_function(
        "s => { const i = document.querySelector(s);"
        " return !!(i && i.complete && i.naturalWidth > 0); }", arg=selector)


def test_the_screens_the_docs_and_the_admin_work_under_the_policy(page, live_server, settings,
                                                                   tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    grids = make_city()
    root = make_user(username="root", is_superuser=True, is_staff=True)
    assign(root, grids[DISTRICT], Post.DISPATCHER)
    reported = submit_appeal(AppealInput(category="E0102", lon=117.795, lat=26.40,
                                         description="路灯不亮", photos=[jpeg()]),
                             actor=AnonymousUser())
    tracking, token = reported.appeal.tracking, reported.token
    base = live_server.url
    console = watch(page)
    seen: dict[str, list[str]] = {}

    # The overview (anonymous).
    visit(page, f"{base}/", console)
    seen["/"] = violations(page, console)

    # The report page (anonymous): the map and its panes.
    visit(page, f"{base}/m/", console)
    page.wait_for_selector(".leaflet-container .leaflet-map-pane .leaflet-overlay-pane",
                           state="attached")
    seen["/m/"] = violations(page, console)

    # The follow page: the reporter's photo, fetched with the token.
    visit(page, f"{base}/m/follow/{tracking}/#token={token}", console)
    photo_loaded(page, "#f-photos img")
    seen["follow"] = violations(page, console)

    # The language menu submits without an inline handler.
    page.select_option("form.lang select[name=language]", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")

    page.goto(f"{base}/accounts/login/?next=/maps/dispatch/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url("**/maps/dispatch/")

    # The dispatcher's dashboard: the appeal on the map, its detail with the photo.
    visit(page, f"{base}/maps/dispatch/", console)
    page.wait_for_function("() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh")
    page.wait_for_selector("path.leaflet-interactive", state="attached")
    page.evaluate("t => GeoGrid.dashboard.openAppeal(t)", tracking)
    page.wait_for_function(
        f"() => document.getElementById('a-tracking').textContent === '{tracking}'")
    photo_loaded(page, "#a-photos img")
    seen["/maps/dispatch/"] = violations(page, console)

    # The grid editor: the grids drawn.
    visit(page, f"{base}/maps/grids/", console)
    page.wait_for_selector(".leaflet-overlay-pane path.leaflet-interactive", state="attached")
    seen["/maps/grids/"] = violations(page, console)

    # The API docs: Swagger UI started (its start-up script is a URL) and listed operations.
    visit(page, f"{base}/api/docs/", console)
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    seen["/api/docs/"] = violations(page, console)

    # The admin's grid page: django-leaflet's widget (nonce) draws the boundary.
    grid = Grid.objects.current().get(code=A)
    visit(page, f"{base}/admin/geogrid/grid/{grid.pk}/change/", console)
    page.wait_for_selector(".leaflet-container path.leaflet-interactive", state="attached")
    seen["admin"] = violations(page, console)

    blocked = {url: found for url, found in seen.items() if found}
    assert not blocked, "\n".join(f"{url}: {m}" for url, found in blocked.items() for m in found)
    assert js_errors(page) == []
