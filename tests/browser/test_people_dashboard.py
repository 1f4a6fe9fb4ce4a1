"""The household layer of the dispatcher dashboard: household counts per grid as labels (never a
point per household) and the 四清 figures of the user's grid, which follow the register.

The figures are in `#ledger` (data-state, data-grid, data-loaded) and `#ledger-<figure>`
(data-clear, data-of, data-share); `GeoGrid.dashboard.refreshPeople()` reloads them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from geogrid.models import Post
from layers.people.models import Dwelling
from tests.browser.conftest import js_errors, screenshot
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


def login(page, base: str, username: str, next_url: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_url}")


def people_on(grids) -> dict:
    """Micro-grid A: unit U1 with four dwellings, two of them with occupancy verified a week
    ago; three households (one 独居), the third moved out; one household outside any unit."""
    week_ago = timezone.now() - dt.timedelta(days=7)
    building = make_building(grids[A], 117.795, 26.395, number="1", households=40)
    unit = make_micro_unit(grids[A], "001", name="洋坊新村1幢1单元")
    dwellings = [make_dwelling(building, room, micro_unit=unit,
                               occupancy_verified_at=week_ago if i < 2 else None)
                 for i, room in enumerate(("101", "102", "201", "202"))]
    make_household(dwellings[0], 1, tags=["独居"], profile_verified_at=week_ago)
    make_household(dwellings[1], 3)
    make_household(dwellings[2], 2, status="moved_out", ended_on=timezone.localdate())
    make_household(make_dwelling(building, "501", unit_no=5), 2)
    return {"unit": unit, "dwellings": dwellings}


def test_the_dashboard_shows_household_counts_and_the_four_clear_figures(page, live_server):
    grids = make_city()
    people = people_on(grids)
    # A dispatcher of the district who is also community staff (the people of the community).
    user = make_user("dispatcher", username="staff-dispatcher")
    assign(user, grids[DISTRICT], Post.DISPATCHER)
    assign(user, grids[COMMUNITY], Post.COMMUNITY_STAFF)
    login(page, live_server.url, "staff-dispatcher", "/maps/dispatch/")
    page.wait_for_selector("#ledger[data-state=ready]")
    assert page.get_attribute("#ledger", "data-grid") == COMMUNITY
    assert page.get_attribute("#ledger", "data-as-of") == timezone.localdate().isoformat()
    occupancy = page.locator("#ledger-occupancy")
    assert (occupancy.get_attribute("data-clear"), occupancy.get_attribute("data-of")) == (
        "2", "4")
    assert occupancy.inner_text().startswith("50.0%")
    assert page.get_attribute("#ledger-profile", "data-of") == "2"  # active households
    assert page.get_attribute("#ledger-profile", "data-share") == "0.5"
    assert page.get_attribute("#ledger-changes", "data-share") == ""  # nothing due: no share
    assert page.inner_text("#ledger-changes") == "—"
    # Household counts: the panel (the district) and a label on the community's polygon.
    page.wait_for_selector("#household-counts[data-state=ready]")
    assert page.get_attribute("#hh-households", "data-value") == "3"
    assert page.get_attribute("#hh-residents", "data-value") == "6"
    assert page.get_attribute("#hh-focus", "data-value") == "1"
    label = page.wait_for_selector(f".hh-label span[data-code='{COMMUNITY}']")
    assert label.inner_text().startswith("3 ")
    # No point per household: the only markers are the per-grid labels.
    assert page.locator(".leaflet-marker-icon:not(.hh-label)").count() == 0

    # The register changes: the figure follows on the next refresh.
    loaded = page.get_attribute("#ledger", "data-loaded")
    Dwelling.objects.filter(pk=people["dwellings"][2].pk).update(
        occupancy_verified_at=timezone.now())
    page.evaluate("() => GeoGrid.dashboard.refreshPeople()")
    page.wait_for_function(
        f"() => document.getElementById('ledger').dataset.loaded !== '{loaded}'")
    assert page.get_attribute("#ledger-occupancy", "data-clear") == "3"
    assert page.inner_text("#ledger-occupancy").startswith("75.0%")
    # Choosing the community shows its zone in the table of children.
    page.select_option("select[name=grid]", COMMUNITY)
    page.wait_for_selector("#ledger-rows:not([hidden]) tbody tr")
    page.wait_for_selector(f"#household-counts[data-grid='{COMMUNITY}'][data-state=ready]")
    assert page.get_attribute("#hh-households", "data-value") == "3"
    assert page.get_attribute("#ledger-rows tbody tr", "data-code") == COMMUNITY + "001"
    screenshot(page, "dispatch-households")
    assert js_errors(page) == []


def test_a_dispatcher_without_people_posts_sees_counts_not_the_figures(page, live_server):
    grids = make_city()
    people_on(grids)
    user = make_user("dispatcher", username="dispatcher")
    assign(user, grids[DISTRICT], Post.DISPATCHER)
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_selector("#household-counts[data-state=ready]")
    assert page.get_attribute("#hh-households", "data-value") == "3"
    page.wait_for_selector("#ledger[data-state=none]")
    assert page.inner_text("#ledger-occupancy") == "—"
    # Choosing a grid does not widen it: the API refuses, the panel says why.
    page.select_option("select[name=grid]", COMMUNITY)
    page.wait_for_selector("#ledger[data-state=forbidden]")
    assert page.inner_text("#ledger-note")
    assert page.locator(".leaflet-marker-icon:not(.hh-label)").count() == 0
    assert js_errors(page) == []
