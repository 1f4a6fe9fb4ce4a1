"""Scanning a QR placard on a phone: the report page opens at the placard with the 四长 board,
a report goes in with channel qr_code, the building and the micro-grid of the moment, and the
current leaders are told; a boundary edit re-routes the same placard; revoked and unknown codes
are refused."""

from __future__ import annotations

import datetime as dt

import pytest

from geogrid.models import Post
from layers.appeals.models import Appeal, Notification
from layers.people.models import MicroUnitLeaderTerm
from layers.placards import services
from layers.placards.models import PlacardScanDay
from tests.browser.conftest import js_errors, screenshot
from tests.factories import assign, make_user
from tests.layers.factories import DISTRICT, A, B, C
from tests.layers.placards.factories import build_world, placard
from tests.layers.placards.test_report import move_edge_south

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def report(phone, url: str, grid: str, description: str) -> Appeal:
    phone.goto(url)
    # The page locates itself at the placard: no tap needed.
    phone.wait_for_function(f"() => document.getElementById('where').dataset.grid === '{grid}'")
    phone.click("label.cat:has(input[value='E0102'])")
    phone.fill("textarea[name=description]", description)
    phone.click("#submit")
    phone.wait_for_selector("#done:not([hidden])")
    return Appeal.objects.get(tracking=phone.inner_text("#tracking"))


def test_a_scan_reports_to_the_current_leaders_at_once(phone, live_server):
    w = build_world()
    p = placard(w)  # building a1, unit 1: micro-unit U1, micro-grid A
    today = dt.date.today()
    MicroUnitLeaderTerm.objects.filter(micro_unit=w.units["U1"]).update(
        until=today - dt.timedelta(days=1))
    new_leader = make_user(first_name="新任单元长")
    MicroUnitLeaderTerm.objects.create(micro_unit=w.units["U1"], user=new_leader, since=today)

    phone.goto(f"{live_server.url}/q/{p.token}")
    assert phone.viewport_size == {"width": 390, "height": 844}
    board = phone.inner_text("#placard-board")
    for shown in ("沙县区洋坊新村9幢1单元", "leader 1", "0598-1000000", "片长赵", "13900000004",
                  "楼长孙", "13900000003", "新任单元长"):
        assert shown in board, shown
    assert "单元长一" not in board  # the former leader is gone from the board
    screenshot(phone, "placard-scan-phone")
    appeal = report(phone, f"{live_server.url}/q/{p.token}", A, "楼道灯坏了")
    assert appeal.channel == "qr_code" and appeal.grid.code == A
    assert appeal.building_id == w.buildings["a1"].pk and appeal.reporter is None
    told = set(Notification.objects.filter(appeal=appeal, kind="placard_report")
               .values_list("user_id", flat=True))
    u = w.users
    assert told == {new_leader.pk, u["bl1"].pk, u["gl_a"].pk, u["gw_a"].pk}
    assert u["mul1"].pk not in told
    day = PlacardScanDay.objects.get(placard=p)
    assert (day.scans, day.reports) == (2, 1)
    assert js_errors(phone) == []


def test_after_a_boundary_edit_the_same_placard_routes_to_the_new_grid(phone, live_server):
    w = build_world()
    p = placard(w, "building", building="c1")  # near the B|C edge, in C
    url = f"{live_server.url}/q/{p.token}"
    before = report(phone, url, C, "路灯不亮")
    assert before.grid.code == C
    move_edge_south(w, 26.398)
    after = report(phone, url, B, "路灯还是不亮")
    assert after.grid.code == B and after.building_id == w.buildings["c1"].pk
    assert w.users["gw_b"].pk in set(Notification.objects.filter(appeal=after)
                                     .values_list("user_id", flat=True))
    assert js_errors(phone) == []


def test_revoked_and_unknown_codes_are_refused(phone, live_server):
    w = build_world()
    p = placard(w)
    services.revoke(p.pk, w.viewer("root"), reason="已更换")
    response = phone.goto(f"{live_server.url}/q/{p.token}")
    assert response.status == 410
    assert phone.query_selector("#report") is None
    assert "不再受理" in phone.inner_text("#placard-refused") or phone.inner_text("h1")
    response = phone.goto(f"{live_server.url}/q/{'Q' * 26}")
    assert response.status == 404
    assert not Appeal.objects.exists()


def test_the_dashboard_layer_shows_the_dispatchers_placards_by_status(page, live_server):
    """The dispatch dashboard's placards layer (dashboard-placards.js, ticked in the form): a
    dispatcher of the district sees its placards (the revoked one grey), scans in the popup, and
    no print link: printing is for those who manage placards."""
    from tests.browser.test_people_dashboard import login

    w = build_world()
    active = placard(w)
    gone = placard(w, unit_no=2)
    services.revoke(gone.pk, w.viewer("root"), reason="已更换")
    services.create_placard(w.viewer("root"), kind="shop", name="老王小吃", lon=117.806,
                            lat=26.405)
    PlacardScanDay.objects.create(placard=active, day=dt.date.today(), scans=7, reports=2)
    dispatcher = make_user("dispatcher", username="disp")
    assign(dispatcher, w.grids[DISTRICT], Post.DISPATCHER)
    login(page, live_server.url, "disp", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGrid && GeoGrid.dashboard")
    count = page.evaluate("""() => new Promise(resolve => {
        GeoGrid.maps.dispatch.once("placards:loaded", e => resolve(e.count));
        document.querySelector("#placards-layer").click();
    })""")
    assert count == 3
    colours = page.evaluate("""() => { const out = [];
        GeoGrid.maps.dispatch.eachLayer(l => { if (l.feature && l.feature.properties.kind)
            out.push([l.feature.properties.status, l.options.fillColor]); });
        return out.sort(); }""")
    assert colours == [["active", "#1a7f37"], ["active", "#1a7f37"], ["revoked", "#9a9a9a"]]
    popup = page.evaluate("""(pk) => { let found = null;
        GeoGrid.maps.dispatch.eachLayer(l => { if (l.feature && l.feature.id === pk) found = l; });
        found.openPopup(); return found.getPopup().getElement().innerText; }""", active.pk)
    assert "扫码 7" in popup and "反映 2" in popup
    assert "打印" not in popup  # a dispatcher sees placards but prints none (placards.manage)
    assert js_errors(page) == []
