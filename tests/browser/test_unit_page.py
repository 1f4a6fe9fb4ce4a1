"""The micro-unit leader's phone page (/m/unit/): a move-out recorded at the door changes the
四清 figures the dispatcher's dashboard shows; an issue raised there becomes an appeal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from geogrid.models import AccessLog, Post
from layers.appeals.models import Appeal
from layers.people import identity
from layers.people.models import ChangeEvent, Household, Person
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_people_dashboard import login
from tests.factories import assign, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, A, make_city
from tests.layers.people.factories import (
    make_building,
    make_dwelling,
    make_household,
    make_micro_unit,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]


def unit_with_leader(grids):
    leader = make_user("grid_worker", username="unit-leader")
    assign(leader, grids[A], Post.MICRO_UNIT_LEADER)
    building = make_building(grids[A], 117.795, 26.395, number="9", households=12)
    unit = make_micro_unit(grids[A], "001", name="洋坊新村9幢1单元", leader=leader)
    week_ago = timezone.now() - dt.timedelta(days=7)
    verified = make_household(make_dwelling(building, "101", micro_unit=unit), 2,
                              tags=["独居"], profile_verified_at=week_ago)
    leaving = make_household(make_dwelling(building, "102", micro_unit=unit), 3)
    return leader, verified, leaving


def test_a_move_out_on_the_phone_changes_the_four_clear_figure_on_the_dashboard(
        browser, live_server, phone, page):
    grids = make_city()
    _leader, _verified, leaving = unit_with_leader(grids)
    staff = make_user("dispatcher", username="staff-dispatcher")
    assign(staff, grids[DISTRICT], Post.DISPATCHER)
    assign(staff, grids[COMMUNITY], Post.COMMUNITY_STAFF)

    login(page, live_server.url, "staff-dispatcher", "/maps/dispatch/")
    page.wait_for_selector("#ledger[data-state=ready]")
    assert page.get_attribute("#ledger-profile", "data-share") == "0.5"  # 1 of 2 households

    login(phone, live_server.url, "unit-leader", "/m/unit/")
    phone.wait_for_selector("#households[data-loaded='1']")
    cards = phone.locator("#households li.household")
    assert cards.count() == 2
    text = phone.inner_text("#households")
    assert "独居" in text and "*" in text  # tags and a masked phone
    content = phone.content()  # no ID number reaches the leader's phone
    assert not any(identity.open_value(p.id_cipher, identity.ID_COLUMN) in content
                   for p in Person.objects.all())
    reads = AccessLog.objects.filter(user__username="unit-leader").count()
    assert reads >= 1
    card = phone.locator(f"li[data-household='{leaving.pk}']")
    phone.once("dialog", lambda dialog: dialog.accept())
    card.locator(".h-move-out").click()
    phone.wait_for_selector(f"li[data-household='{leaving.pk}'][data-status=moved_out]")
    screenshot(phone, "unit-page-moved-out")
    assert Household.objects.get(pk=leaving.pk).status == "moved_out"
    change = ChangeEvent.objects.get(household=leaving, kind="move_out")
    assert change.reported_by.username == "unit-leader" and change.source == "door"

    page.evaluate("GeoGrid.dashboard.refreshPeople()")
    page.wait_for_selector("#ledger-profile[data-share='1']")  # now 1 of 1
    assert js_errors(page) == [] and js_errors(phone) == []


def test_an_issue_raised_on_the_phone_becomes_an_appeal(browser, live_server, phone):
    grids = make_city()
    _leader, verified, _leaving = unit_with_leader(grids)
    login(phone, live_server.url, "unit-leader", "/m/unit/")
    phone.wait_for_selector("#households[data-loaded='1']")
    card = phone.locator(f"li[data-household='{verified.pk}']")
    card.locator(".h-issue").click()
    card.locator("textarea[name=text]").fill("楼道灯不亮，老人夜里不敢出门")
    card.locator("select[name=category]").select_option("E0102")
    card.locator(".h-issue-form button[type=submit]").click()
    phone.wait_for_function(
        "el => el.textContent.length > 0", arg=card.locator(".h-status").element_handle())
    appeal = Appeal.objects.get(description="楼道灯不亮，老人夜里不敢出门")
    assert appeal.tracking in card.locator(".h-status").inner_text()
    assert appeal.grid.code == A and "101" not in appeal.address
    assert js_errors(phone) == []
