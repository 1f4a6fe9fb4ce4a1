"""Points on the phone (issue 14): a volunteer reserves an item on /m/points/ and sees the pickup
code with its QR code; the operator types the code on /m/shop/, sees the volunteer's display
name only, and hands it over; the volunteer's balance and the stock moved once. Phone size, no
request leaves the live server, no CSP violation, no JavaScript error."""

from __future__ import annotations

import pytest

from layers.shop.models import Item, Redemption
from layers.volunteering.models import PointsAccount
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_csp import violations, watch
from tests.browser.test_people_dashboard import login
from tests.layers.volunteering.conftest import World, build_world, give

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(transactional_db) -> World:
    w = build_world()
    give(w.account("v1"), 40, "g")
    return w


def test_reserve_on_the_phone_then_collect_at_the_counter(world, phone, live_server):
    console = watch(phone)
    base = live_server.url
    login(phone, base, "v1", "/m/points/")
    phone.wait_for_selector("#balance[data-balance='40']")
    rice = world.items["rice"]
    phone.click(f"li.points-item[data-item='{rice.pk}'] .i-reserve")
    phone.wait_for_selector("li.points-redemption[data-code]")
    phone.wait_for_selector("#balance[data-balance='30']")
    code = phone.get_attribute("li.points-redemption", "data-code")
    assert code and Redemption.objects.get().pickup_code == code
    phone.wait_for_function(
        "() => { const i = document.querySelector('li.points-redemption .r-qr');"
        " return !!(i && i.complete && i.naturalWidth > 0); }")
    screenshot(phone, "points-volunteer")
    assert violations(phone, console) == [] and js_errors(phone) == []

    phone.context.clear_cookies()
    login(phone, base, "op", "/m/shop/")
    phone.wait_for_selector("#shop option", state="attached")
    phone.fill("#code", code[:4].lower() + " " + code[4:].lower())  # as a person types it
    phone.click("#lookup")
    phone.wait_for_selector("#found[data-state='found']")
    found = phone.text_content("#found") or ""
    assert "小王" in found and "v1" not in found
    phone.click("#collect")
    phone.wait_for_selector("#found[data-state='collected']")
    phone.wait_for_selector("#recent li[data-status='collected']")
    screenshot(phone, "points-counter")
    assert violations(phone, console) == [] and js_errors(phone) == []

    assert Redemption.objects.get().status == "collected"
    assert PointsAccount.objects.get(volunteer=world.volunteers["v1"]).balance == 30
    assert Item.objects.get(pk=rice.pk).stock == 4


def test_the_dashboard_points_panel_shows_figures_per_grid(world, page, live_server):
    """The dispatch dashboard's points panel (dashboard-points.js): a dispatcher of the district
    sees the totals and, ticked, the communities coloured."""
    from geogrid.models import Post
    from layers.volunteering import ledger
    from tests.factories import assign, make_user
    from tests.layers.factories import COMMUNITY, DISTRICT

    ledger.post(world.account("v1").pk, -10, "redeem", key="r",
                grid_id=world.grids[COMMUNITY].pk)
    assign(make_user("dispatcher", username="disp"), world.grids[DISTRICT], Post.DISPATCHER)
    console = watch(page)
    login(page, live_server.url, "disp", "/maps/dispatch/")
    page.wait_for_selector(".points-panel[data-loaded='1']", state="attached")
    assert page.text_content(".points-total [data-figure='earned']") == "40"
    assert page.text_content(".points-total [data-figure='redeemed']") == "10"
    assert page.text_content(".points-total [data-figure='outstanding']") == "30"
    assert page.text_content(".points-total [data-figure='shops']") == "1"
    page.check(".points-panel input[type=checkbox]")
    assert page.locator("path.points-cell").count() == 2  # the two communities
    assert js_errors(page) == []
    assert violations(page, console) == []
