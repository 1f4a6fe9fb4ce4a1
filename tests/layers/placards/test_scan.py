"""Opening /q/<token>: the report page located at the placard with the 四长 board read now;
404 / 410 pages; scans counted per day and never traced; the scan rate limit."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from layers.people.models import MicroUnitLeaderTerm
from layers.placards import services
from layers.placards.models import Placard, PlacardScanDay
from tests.factories import make_user
from tests.layers.placards.factories import World, placard

pytestmark = pytest.mark.django_db


def page_json(response, element: str) -> dict:
    found = re.search(rf'<script id="{element}" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert found, f"no {element} on the page"
    return json.loads(found.group(1))


def board(response) -> list[tuple[str, str, str]]:
    html = response.content.decode()
    rows = re.findall(r'<tr data-post="(\w+)">.*?<td class="name">(.*?)</td>'
                      r'<td class="phone">(.*?)</td>', html, re.S)
    return [(post, name, re.sub(r"<[^>]+>", "", phone)) for post, name, phone in rows]


def test_the_page_opens_at_the_placard_with_the_four_leaders(client, world: World):
    p = placard(world)  # a1 unit 1, micro-grid A
    r = client.get(f"/q/{p.token}")
    assert r.status_code == 200
    data = page_json(r, "placard")
    assert (data["lon"], data["lat"]) == (117.795, 26.4)
    assert data["submit"] == f"/api/v1/placards/scan/{p.token}/appeal/"
    assert "洋坊新村9幢1单元" in r.content.decode()
    assert board(r) == [
        ("grid_leader", "leader 1", "0598-1000000"),
        ("zone_leader", "片长赵", "13900000004"),
        ("building_leader", "楼长孙", "13900000003"),
        ("micro_unit_leader", "单元长一", "13900000001"),
    ]
    # The report page itself: its form, script and the map configuration.
    html = r.content.decode()
    assert 'id="report"' in html and "maps/js/report.js" in html and 'id="map-config"' in html


def test_the_board_shows_the_current_micro_unit_leader(client, world: World):
    p = placard(world, unit_no=2)
    today = dt.date.today()
    MicroUnitLeaderTerm.objects.filter(micro_unit=world.units["U2"]).update(
        until=today - dt.timedelta(days=1))
    MicroUnitLeaderTerm.objects.create(micro_unit=world.units["U2"],
                                       user=make_user(first_name="新来的"), since=today)
    rows = board(client.get(f"/q/{p.token}"))
    assert ("micro_unit_leader", "新来的", "—") in rows
    assert not any(name == "单元长二" for _post, name, _phone in rows)


def test_an_ended_term_leaves_the_board(client, world: World):
    p = placard(world, unit_no=2)
    MicroUnitLeaderTerm.objects.filter(micro_unit=world.units["U2"]).update(
        until=dt.date.today() - dt.timedelta(days=1))
    rows = board(client.get(f"/q/{p.token}"))
    assert [post for post, _n, _p in rows] == ["grid_leader", "zone_leader", "building_leader"]


def test_the_board_never_shows_a_login_name(client, world: World):
    p = placard(world)
    world.users["mul1"].first_name = ""
    world.users["mul1"].save()
    html = client.get(f"/q/{p.token}").content.decode()
    assert world.users["mul1"].username not in html
    assert ("micro_unit_leader", "—", "13900000001") in board(client.get(f"/q/{p.token}"))


def test_unknown_is_a_404_page_and_revoked_a_410_page(client, world: World):
    p = placard(world)
    r = client.get("/q/" + "A" * 26)
    assert r.status_code == 404 and 'data-status="404"' in r.content.decode()
    assert client.get("/q/nonsense").status_code == 404
    services.revoke(p.pk, world.viewer("root"), reason="换新码")
    r = client.get(f"/q/{p.token}")
    assert r.status_code == 410 and 'data-status="410"' in r.content.decode()
    assert 'id="report"' not in r.content.decode()  # no form to submit
    assert not PlacardScanDay.objects.exists()  # refused scans are not counted


def test_two_scans_count_two_and_store_nothing_about_the_scanner(client, world: World):
    p = placard(world)
    for _ in range(2):
        assert client.get(f"/q/{p.token}", REMOTE_ADDR="203.0.113.9",
                          HTTP_USER_AGENT="Mozilla/5.0 (iPhone)").status_code == 200
    row = PlacardScanDay.objects.get(placard=p)
    assert (row.scans, row.reports, row.day) == (2, 0, dt.date.today())
    # The counter table has the placard, the day and two numbers — nothing else.
    assert {f.name for f in PlacardScanDay._meta.get_fields()} == {
        "id", "placard", "day", "scans", "reports"}
    assert "203.0.113.9" not in json.dumps(list(PlacardScanDay.objects.values()), default=str)


def test_scans_are_rate_limited_per_address(client, world: World, settings):
    limits = {**settings.GEOGRID["RATE_LIMITS"], "locate": (2, 3600)}
    settings.GEOGRID = {**settings.GEOGRID, "RATE_LIMITS": limits}
    p = placard(world)
    statuses = [client.get(f"/q/{p.token}").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/q/" + "B" * 26).status_code == 429  # unknown tokens count too
    assert PlacardScanDay.objects.get(placard=p).scans == 2


def test_a_shop_placard_page_has_no_building_board(client, world: World):
    shop = services.create_placard(world.viewer("root"), kind=Placard.Kind.SHOP,
                                   name="老王小吃", lon=117.806, lat=26.405)
    r = client.get(f"/q/{shop.token}")
    assert r.status_code == 200 and "老王小吃" in r.content.decode()
    assert [post for post, _n, _p in board(r)] == ["grid_leader", "zone_leader"]
