"""吹哨报到 end to end (issue 19): a dispatcher blows a whistle on an appeal from the dashboard
with a lead and an assisting department; both departments report in from the phone page — the
lead on site with the phone's location, the assisting one remotely after the location was
refused —, both mark their part done; the dispatcher resolves, rates both units and closes, and
the department figures on the dashboard change. What is asserted is what the users see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from layers.appeals.actors import Actor
from layers.whistles import services
from layers.whistles.models import Whistle
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_csp import violations, watch
from tests.browser.test_people_dashboard import login
from tests.layers.whistles.factories import PLACE, appeal_at, make_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def figure(page, department: str, name: str) -> str:
    return page.inner_text(f"#wh-departments tr[data-department={department}] "
                           f"td[data-figure={name}]")


def as_member(phone, base: str, user) -> None:
    phone.context.clear_cookies()
    login(phone, base, user.username, "/m/whistles/")
    phone.wait_for_selector("#whistles:not([data-loaded='0'])")


def test_a_whistle_from_blowing_to_the_rating(page, phone, live_server):
    world = make_world()
    dispatcher = Actor(user=world.dispatcher)
    # Last week the city management bureau was called in and never came (cancelled unreported).
    old = services.blow(dispatcher, reason="key_task", title="上周的联合检查", lead="CG",
                        lon=PLACE[0], lat=PLACE[1], at=timezone.now() - dt.timedelta(days=7))
    services.cancel(old.pk, dispatcher, note="改期", at=timezone.now() - dt.timedelta(days=6))
    appeal = appeal_at()
    cg, zj = world.members["CG"], world.members["ZJ"]
    desk, mobile = watch(page), watch(phone)

    # -- the dispatcher's dashboard: the figures before, then blowing on the appeal ----------------
    login(page, live_server.url, world.dispatcher.username, "/maps/dispatch/")
    page.wait_for_selector("#wh-figures[data-state=ready]")
    assert figure(page, "CG", "called") == "1" and figure(page, "CG", "report_rate") == "0.0%"
    assert page.locator("#wh-departments tr[data-department=ZJ]").count() == 0
    page.evaluate("t => GeoGrid.dashboard.openAppeal(t)", appeal.tracking)
    page.click("#a-whistle[data-state=blow] #wh-blow-start")
    form = page.locator("#wh-blow-form")
    form.locator("select[name=lead] option[value=CG]").wait_for(state="attached")
    form.locator("select[name=reason]").select_option("appeal")
    form.locator("select[name=lead]").select_option("CG")
    form.locator("input[name=assists][value=ZJ]").check()
    form.locator("button[type=submit]").click()
    detail = page.locator("#wh-detail[data-status=blown]")
    detail.wait_for()
    whistle = Whistle.objects.get(appeal=appeal)
    assert f"已吹哨 {whistle.code}" in page.inner_text("#a-whistle")
    lead = detail.locator("li[data-department=CG]")
    assert "城管局" in lead.inner_text() and "主办" in lead.inner_text()
    assert "已通知" in lead.inner_text() and "还剩" in lead.inner_text()
    assert "协办" in detail.locator("li[data-department=ZJ]").inner_text()
    # On the map, its popup gives each unit's state and clock.
    page.wait_for_selector(f"path[data-whistle='{whistle.pk}']", state="attached")
    page.evaluate("""id => { const m = GeoGrid.maps.dispatch; m.eachLayer(l => {
        if (l.whistleId === id) { m.setView(l.getLatLng(), 16, {animate: false}); l.openPopup(); }
    }); }""", whistle.pk)
    popup = page.wait_for_selector(".wh-popup").inner_text()
    assert whistle.code in popup and "城管局" in popup and "住建局" in popup and "还剩" in popup
    screenshot(page, "whistles-dashboard-blown")

    # -- the lead reports in on site, with the phone's location ---------------------------------
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone.context.set_geolocation({"longitude": PLACE[0] + 0.0005, "latitude": PLACE[1]})
    as_member(phone, live_server.url, cg)
    card = phone.locator(f"li.wh-card[data-whistle='{whistle.pk}']")
    assert card.count() == 1  # the cancelled whistle is gone from the member's list
    assert "主办" in card.inner_text() and whistle.title in card.inner_text()
    clock = card.locator(".wh-clock")
    assert clock.get_attribute("data-overdue") == "0" and "还剩" in clock.inner_text()
    assert card.locator(".wh-map .leaflet-marker-pane, .wh-map .leaflet-overlay-pane path").count()
    screenshot(phone, "whistles-phone-called")
    card.locator("button[data-action=report_on_site]").click()
    phone.wait_for_selector(f"li.wh-card[data-whistle='{whistle.pk}'][data-status=reported]")
    assert "到场报到，距现场" in card.inner_text() and "已报到。" in card.inner_text()
    assert card.locator("button[data-action=report_on_site]").count() == 0

    # -- the assisting department: the location is refused, so it accepts remotely ------------
    phone.context.clear_permissions()
    as_member(phone, live_server.url, zj)
    card = phone.locator(f"li.wh-card[data-whistle='{whistle.pk}']")
    assert "协办" in card.inner_text()
    card.locator("button[data-action=report_on_site]").click()
    status = card.locator(".wh-status[data-code=denied]")
    status.wait_for()
    assert "定位权限被拒绝" in status.inner_text() and "远程接单" in status.inner_text()
    card.locator("button[data-action=report_remote]").click()
    phone.wait_for_selector(f"li.wh-card[data-whistle='{whistle.pk}'][data-status=reported]")
    assert "远程接单" in card.locator(".wh-report").inner_text()

    # -- both finish (a result is required) ------------------------------------------------------
    card.locator("button[data-action=finish]").click()
    card.locator(".wh-send").click()
    assert "此项必填" in card.locator(".wh-form .errors").first.inner_text()
    card.locator(".wh-form textarea").fill("协助清理占道物品")
    card.locator(".wh-send").click()
    phone.wait_for_selector(f"li.wh-card[data-whistle='{whistle.pk}'][data-status=done]")
    assert "协助清理占道物品" in card.inner_text()
    as_member(phone, live_server.url, cg)
    card = phone.locator(f"li.wh-card[data-whistle='{whistle.pk}']")
    card.locator("button[data-action=finish]").click()
    card.locator(".wh-form textarea").fill("路灯已修复")
    card.locator(".wh-send").click()
    phone.wait_for_selector(f"li.wh-card[data-whistle='{whistle.pk}'][data-status=done]")
    screenshot(phone, "whistles-phone-done")

    # -- the dispatcher resolves, rates both and closes; the figures change ---------------------
    page.evaluate("id => GeoGrid.dashboard.openWhistle(id)", whistle.pk)
    detail = page.locator(f"#wh-detail[data-whistle='{whistle.pk}']")
    detail.locator("li[data-department=CG][data-status=done]").wait_for()
    assert "路灯已修复" in detail.inner_text()
    detail.locator("button[data-action=resolve]").click()
    detail.locator("#wh-action-form button[type=submit]").click()
    page.wait_for_selector("#wh-detail[data-status=resolved]")
    for department, rating, speed, quality in (("CG", "satisfied", "5", "4"),
                                               ("ZJ", "basically", "4", "3")):
        unit = detail.locator(f"li[data-department={department}]")
        unit.locator("button[data-unit-action=rate]").click()
        rate = detail.locator("#wh-action-form")
        rate.locator("select[name=rating]").select_option(rating)
        rate.locator("select[name=speed]").select_option(speed)
        rate.locator("select[name=quality]").select_option(quality)
        rate.locator("button[type=submit]").click()
        detail.locator(f"li[data-department={department}] .u-rating").wait_for()
    assert "满意" in detail.locator("li[data-department=CG] .u-rating").inner_text()
    assert "基本满意" in detail.locator("li[data-department=ZJ] .u-rating").inner_text()
    detail.locator("button[data-action=close]").click()
    detail.locator("#wh-action-form button[type=submit]").click()
    page.wait_for_selector("#wh-detail[data-status=closed]")
    assert "关闭" in page.inner_text("#wh-detail .wh-status-label")
    page.wait_for_function("() => document.querySelector('#wh-departments tr[data-department=ZJ]')")
    assert figure(page, "CG", "called") == "2" and figure(page, "CG", "report_rate") == "50.0%"
    assert figure(page, "CG", "satisfaction_rate") == "100.0%"
    assert figure(page, "ZJ", "report_rate") == "100.0%"
    assert figure(page, "ZJ", "completion_rate") == "100.0%"
    assert figure(page, "ZJ", "satisfaction_rate") == "100.0%"
    page.locator("#wh-figures").scroll_into_view_if_needed()
    screenshot(page, "whistles-dashboard-figures")
    assert violations(page, desk) == [] and violations(phone, mobile) == []
    assert js_errors(page) == [] and js_errors(phone) == []
