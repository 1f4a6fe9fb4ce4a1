"""The dispatcher dashboard: a resident's appeal shows up, the dispatcher opens it from the map
and acts on it; with the county sample the first heat map and the map's layers (heat, appeals,
grids) render within 2 s of the dashboard script's start. The city-scale figure (1 M appeals,
from the navigation's start) is bench/bench_dashboard.py's."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import AnonymousUser

from geogrid.models import Grid, Post
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import Appeal
from tests.browser.conftest import js_errors, screenshot
from tests.factories import assign, make_user
from tests.layers.factories import DISTRICT, A, make_city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def login(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def dispatcher_on(district: Grid):
    user = make_user("dispatcher", username="dispatcher")
    assign(user, district, Post.DISPATCHER)
    return user


def test_dispatcher_opens_a_new_appeal_from_the_map_and_accepts_it(page, live_server):
    grids = make_city()
    dispatcher_on(grids[DISTRICT])
    result = submit_appeal(
        AppealInput(category="E0102", lon=117.795, lat=26.40, crs="wgs84", description="垃圾堆放"),
        actor=AnonymousUser(),
    )
    tracking = result.appeal.tracking
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh")
    # The appeal is a marker on the map (few points: markers, not tiles); clicking opens it.
    marker = page.wait_for_selector("path.leaflet-interactive[fill='#1f6fd1']", state="attached")
    page.evaluate("t => GeoGrid.dashboard.openAppeal(t)", tracking)
    page.wait_for_function(
        f"() => document.getElementById('a-tracking').textContent === '{tracking}'")
    assert marker is not None
    assert page.inner_text("#a-grid").startswith(A)
    actions = page.eval_on_selector_all("#a-actions button", "bs => bs.map(b => b.dataset.action)")
    assert "accept" in actions and "check_pass" not in actions  # only what this user may do now
    page.click("#a-actions button[data-action=accept]")
    page.click("#action-form button[type=submit]")
    page.wait_for_function("() => !document.querySelector('#a-actions button[data-action=accept]')")
    assert Appeal.objects.get(tracking=tracking).status == "accepted"
    screenshot(page, "dispatch-desktop")
    assert js_errors(page) == []


def test_dispatcher_escalates_a_dispatched_appeal(page, live_server):
    grids = make_city()
    dispatcher_on(grids[DISTRICT])
    appeal = submit_appeal(
        AppealInput(category="E0102", lon=117.795, lat=26.40, crs="wgs84"), actor=AnonymousUser()
    ).appeal
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh")
    for action in ("accept", "dispatch", "escalate"):
        page.evaluate("t => GeoGrid.dashboard.openAppeal(t)", appeal.tracking)
        page.wait_for_selector(f"#a-actions button[data-action={action}]")
        page.click(f"#a-actions button[data-action={action}]")
        page.fill("#act-note", f"{action} by the dashboard test")
        page.click("#action-form button[type=submit]")
        page.wait_for_selector(f"#a-timeline li:has-text('{action} by the dashboard test')")
    appeal.refresh_from_db()
    assert appeal.escalation_level == 1
    assert js_errors(page) == []


def test_first_heat_map_of_the_county_renders_within_two_seconds(page, live_server, tmp_path):
    from fixtures.city import generate
    from fixtures.load import LoadParams, load_city

    generate("county", 1, tmp_path, progress=False)
    # The participation sample (a third of the load) is not what this measures.
    load_city(LoadParams(directory=tmp_path, progress=False, participation=False))
    assert Appeal.objects.count() == 21_140
    dispatcher_on(Grid.objects.current().get(code="350427"))
    login(page, live_server.url, "dispatcher", "/")
    heat_reads: list[str] = []
    page.on("request", lambda r: heat_reads.append(r.url) if "/api/v1/heat?" in r.url else None)
    started = time.monotonic()
    page.goto(f"{live_server.url}/maps/dispatch/")
    page.wait_for_function(
        "() => window.GeoGridTimings && window.GeoGridTimings.firstRender", timeout=30_000
    )
    timings = page.evaluate("window.GeoGridTimings")
    first_heat_ms, first_render_ms = timings["firstHeat"], timings["firstRender"]
    wall = time.monotonic() - started
    screenshot(page, "dispatch-county-heat")
    print(f"first heat render {first_heat_ms:.0f} ms, map drawn {first_render_ms:.0f} ms after "
          f"script start; page+map {wall:.2f} s")
    assert page.eval_on_selector_all("canvas.leaflet-heatmap-layer", "c => c.length") == 1
    assert first_heat_ms < 2000
    assert first_render_ms < 2000  # heat, appeals and grids (from the script's start, as above)
    # Fitted to the dispatcher's grids before the first read: the heat is read once, not again
    # after a fit.
    assert len(heat_reads) == 1
    assert js_errors(page) == []


def test_the_action_form_is_built_from_the_action_registry(page, live_server):
    """The dashboard has no table of its own: 'extend' asks for the working hours because the
    registry says so, and the server's message about them appears next to that field."""
    from layers.appeals import transitions
    from layers.appeals.actors import Actor

    grids = make_city()
    dispatcher = Actor(user=dispatcher_on(grids[DISTRICT]))
    appeal = submit_appeal(
        AppealInput(category="E0102", lon=117.795, lat=26.40, crs="wgs84"), actor=AnonymousUser()
    ).appeal
    transitions.accept(appeal.tracking, dispatcher)
    transitions.dispatch(appeal.tracking, dispatcher)
    due_before = Appeal.objects.get(pk=appeal.pk).due_at
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh")
    page.evaluate("t => GeoGrid.dashboard.openAppeal(t)", appeal.tracking)
    page.wait_for_selector("#a-actions button[data-action=extend]")
    registry = {a["name"]: a for a in page.evaluate("GeoGrid.readJson('dashboard').actions")}
    extend = registry["extend"]
    assert [f["name"] for f in extend["fields"]] == ["hours", "note"]
    assert page.inner_text("#a-actions button[data-action=extend]") == extend["label"] == "延期"

    def form_fields() -> list[dict]:
        return page.eval_on_selector_all(
            "#action-fields input, #action-fields select, #action-fields textarea",
            "els => els.map(e => ({name: e.name, type: e.type, required: e.required}))",
        )

    page.click("#a-actions button[data-action=escalate]")
    assert [f["name"] for f in form_fields()] == ["department", "note"]  # no hours here
    page.click("#a-actions button[data-action=extend]")
    assert page.inner_text("#action-title") == "延期"
    assert form_fields() == [
        {"name": "hours", "type": "number", "required": True},
        {"name": "note", "type": "textarea", "required": False},
    ]
    assert "工作小时" in page.inner_text("#row-hours")  # the registry's label for the field
    # More hours than EXTENSION_MAX_HOURS: the server says so, next to the field.
    page.fill("#act-hours", "1000")
    page.click("#action-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('.errors[data-field=hours]').textContent")
    assert "240" in page.inner_text(".errors[data-field=hours]")
    assert page.inner_text("#action-errors") == ""
    assert Appeal.objects.get(pk=appeal.pk).due_at == due_before
    page.fill("#act-hours", "8")
    page.fill("#act-note", "等待配件")
    page.click("#action-form button[type=submit]")
    page.wait_for_selector("#a-timeline li:has-text('等待配件')")
    assert page.is_hidden("#action-form")
    assert Appeal.objects.get(pk=appeal.pk).due_at > due_before
    assert js_errors(page) == []
