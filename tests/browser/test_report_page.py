"""The phone report page: a resident taps the map, sees whose grid it is, and submits."""

from __future__ import annotations

import pytest

from layers.appeals.models import Appeal
from tests.browser.conftest import js_errors, screenshot
from tests.layers.factories import B, make_city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def tap_map(page, lon: float, lat: float) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    point = page.evaluate(
        "([lon, lat]) => { const m = GeoGrid.maps.report;"
        " m.setView([lat, lon], 16, {animate: false});"
        " const p = m.latLngToContainerPoint([lat, lon]); return {x: p.x, y: p.y}; }",
        [lon, lat],
    )
    box = page.query_selector("#map").bounding_box()
    page.touchscreen.tap(box["x"] + point["x"], box["y"] + point["y"])


def test_resident_reports_by_tapping_the_map(phone, live_server):
    make_city()
    phone.goto(f"{live_server.url}/m/")
    assert phone.viewport_size == {"width": 390, "height": 844}
    tap_map(phone, 117.805, 26.405)  # inside micro-grid B
    phone.wait_for_function(f"() => document.getElementById('where').dataset.grid === '{B}'")
    assert "微网格B" in phone.inner_text("#where")
    assert "leader 2" in phone.inner_text("#where")  # the grid leader is named before submitting
    phone.click("label.cat:has(input[value='E0102'])")
    phone.fill("textarea[name=description]", "路口垃圾堆放三天了")
    screenshot(phone, "report-phone-filled")
    phone.click("#submit")
    phone.wait_for_selector("#done:not([hidden])")
    tracking = phone.inner_text("#tracking")
    appeal = Appeal.objects.get(tracking=tracking)
    assert appeal.grid.code == B and appeal.category.code == "E0102"
    assert appeal.channel == "mobile" and appeal.reporter is None
    assert appeal.location.x == pytest.approx(117.805, abs=1e-5)  # a pixel at z16 is ~1 m
    # The share link carries the public id, never the number (tests below follow it).
    share = phone.get_attribute("#share-link", "href")
    assert share == f"/m/follow/{appeal.public_id}/" and tracking not in share
    # The follow link carries the secret token; the follow page shows the report.
    phone.click("#follow-link")
    phone.wait_for_selector("#f-summary:not([hidden])")
    assert phone.inner_text("#f-tracking") == tracking
    assert phone.get_attribute("#f-share a", "href") == share
    screenshot(phone, "follow-phone")
    assert js_errors(phone) == []


def test_a_neighbour_supports_through_the_share_link(phone, live_server):
    """The share link (public id, no token) shows what and where, never the number or the
    state, and takes one support; a second one gets the one refusal."""
    from tests.layers.appeals.workflow_fixtures import build_city, new_appeal

    build_city()
    appeal, _ = new_appeal()  # micro-grid A
    phone.goto(f"{live_server.url}/m/follow/{appeal.public_id}/")
    phone.wait_for_selector("#share-card:not([hidden])")
    assert phone.inner_text("#s-grid") == "微网格A"
    assert phone.inner_text("#s-supporters") == "0"
    assert phone.is_hidden("#appeal")
    assert appeal.tracking not in phone.content()
    screenshot(phone, "share-card-phone")
    phone.click("#s-support")
    phone.wait_for_selector("#s-done:not([hidden])")
    assert phone.inner_text("#s-supporters") == "1"
    appeal.refresh_from_db()
    assert appeal.supporters == 1
    phone.reload()
    phone.wait_for_selector("#share-card:not([hidden])")
    phone.click("#s-support")
    phone.wait_for_selector("#s-error:not([hidden])")
    assert "无法附议" in phone.inner_text("#s-error")
    assert phone.is_disabled("#s-support")
    appeal.refresh_from_db()
    assert appeal.supporters == 1
    assert js_errors(phone) == []


def test_submitting_without_a_pin_or_category_explains_what_is_missing(phone, live_server):
    make_city()
    phone.goto(f"{live_server.url}/m/")
    phone.click("#submit")
    assert phone.inner_text(".errors[data-field=lon]") == "请先在地图上标出问题位置。"
    tap_map(phone, 117.805, 26.405)
    phone.wait_for_function("() => document.getElementById('where').dataset.grid")
    phone.click("#submit")
    phone.wait_for_function(
        "() => document.querySelector('.errors[data-field=category]').textContent")
    assert not Appeal.objects.exists()


def test_reporter_follows_the_timeline_and_an_unsatisfied_rating_reopens(phone, live_server):
    from layers.appeals import transitions
    from tests.layers.appeals.workflow_fixtures import build_city, new_appeal

    city = build_city()
    appeal, token = new_appeal()  # micro-grid A, a request (no after-photo needed)
    d, worker, leader = (city.actor(n) for n in ("dispatcher", "worker_A", "leader_A"))
    transitions.accept(appeal.tracking, d)
    transitions.dispatch(appeal.tracking, d)
    transitions.start(appeal.tracking, worker)
    transitions.resolve(appeal.tracking, worker, result="已处理")
    transitions.check_pass(appeal.tracking, leader)
    phone.goto(f"{live_server.url}/m/follow/{appeal.tracking}/#token={token}")
    phone.wait_for_selector("#rate:not([hidden])")
    assert phone.locator("#f-timeline li").count() >= 6  # received … checked
    phone.select_option("select[name=resolution]", "unsolved")
    phone.select_option("select[name=satisfaction]", "unsatisfied")
    phone.fill("textarea[name=comment]", "还是堵")
    phone.click("#rate-form button[type=submit]")
    phone.wait_for_selector("#rated:not([hidden])")
    appeal.refresh_from_db()
    assert appeal.satisfaction == "unsatisfied" and appeal.reopen_count == 1
    assert appeal.status == "in_progress"  # reopened: back with the grid's handlers
    # A wrong token shows nothing, not even whether the number exists.
    phone.goto(f"{live_server.url}/m/follow/{appeal.tracking}/#token=wrong")
    phone.reload()  # only the fragment changed
    phone.wait_for_selector("#f-missing:not([hidden])")
    assert js_errors(phone) == []


def test_a_server_side_error_appears_next_to_its_field(phone, live_server):
    """The API's one error shape: `fields.contact_phone` is shown under the phone input (the
    page itself does not check phone numbers), nothing in the general place, nothing stored."""
    make_city()
    phone.goto(f"{live_server.url}/m/")
    tap_map(phone, 117.805, 26.405)
    phone.wait_for_function("() => document.getElementById('where').dataset.grid")
    phone.click("label.cat:has(input[value='E0102'])")
    phone.fill("input[name=contact_phone]", "call me")
    with phone.expect_response("**/api/v1/appeals/") as answer:
        phone.click("#submit")
    body = answer.value.json()
    assert answer.value.status == 400 and body["code"] == "invalid"
    assert body["fields"] == {"contact_phone": ["不是有效的电话号码"]}
    phone.wait_for_function(
        "() => document.querySelector('.errors[data-field=contact_phone]').textContent"
    )
    assert phone.inner_text(".errors[data-field=contact_phone]") == "不是有效的电话号码"
    for other in ("non_field_errors", "category", "lon"):
        assert phone.inner_text(f".errors[data-field={other}]") == ""
    assert not Appeal.objects.exists()
    # Corrected, it goes through and the message is gone.
    phone.fill("input[name=contact_phone]", "13812345678")
    phone.click("#submit")
    phone.wait_for_selector("#done:not([hidden])")
    assert Appeal.objects.get().contact_phone == "13812345678"
    assert js_errors(phone) == []
