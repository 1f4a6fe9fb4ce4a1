"""Reports through a placard: the appeal (channel qr_code, the building, the grid now), the
people told at once (the *current* leaders), the pin rule, refusals that change nothing."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import transaction

from geogrid.models import Post
from geogrid.versions import announce, replace_boundaries
from layers.appeals.models import Appeal, AppealEvent, Notification
from layers.people.models import BuildingLeaderTerm, MicroUnitLeaderTerm
from layers.placards import services
from layers.placards.models import Placard, PlacardEvent, PlacardScanDay
from tests.factories import assign, make_user
from tests.layers.factories import METRE_LON, A, B, C
from tests.layers.placards.factories import World, placard

pytestmark = pytest.mark.django_db


def post(client, p: Placard, body: dict | None = None, **extra):
    data = {"category": "E0102", "description": "楼道灯不亮", **(body or {})}
    return client.post(f"/api/v1/placards/scan/{p.token}/appeal/", data,
                       content_type="application/json", **extra)


def told(appeal: Appeal) -> dict[int, str]:
    return dict(Notification.objects.filter(appeal=appeal, kind="placard_report")
                .values_list("user_id", "data__role"))


def test_a_report_reaches_the_door_and_the_current_leaders_at_once(client, world: World):
    p = placard(world)  # a1, unit 1: micro-unit U1
    r = post(client, p)
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(tracking=r.json()["tracking"])
    assert appeal.channel == "qr_code" and appeal.building_id == world.buildings["a1"].pk
    assert appeal.grid.code == A and appeal.reporter is None
    assert appeal.location.equals_exact(world.buildings["a1"].location, 1e-9)
    u = world.users
    assert told(appeal) == {u["mul1"].pk: "micro_unit_leader", u["bl1"].pk: "building_leader",
                            u["gl_a"].pk: "grid_worker", u["gw_a"].pk: "grid_worker"}
    # The texts carry the address and the tracking number, nothing of the reporter.
    for note in Notification.objects.filter(appeal=appeal):
        assert set(note.data) == {"tracking", "role", "place", "placard", "category"}
    assert PlacardScanDay.objects.get(placard=p).reports == 1
    assert PlacardEvent.objects.filter(placard=p, kind="reported").count() == 1


def test_a_changed_leader_term_changes_who_is_told(client, world: World):
    p = placard(world)
    u = world.users
    today = dt.date.today()
    MicroUnitLeaderTerm.objects.filter(micro_unit=world.units["U1"]).update(
        until=today - dt.timedelta(days=1))
    new_mul = make_user(first_name="新单元长")
    MicroUnitLeaderTerm.objects.create(micro_unit=world.units["U1"], user=new_mul, since=today)
    BuildingLeaderTerm.objects.filter(user=u["bl1"]).update(until=today - dt.timedelta(days=1))
    r = post(client, p)
    appeal = Appeal.objects.get(tracking=r.json()["tracking"])
    roles = told(appeal)
    assert roles[new_mul.pk] == "micro_unit_leader"
    assert u["mul1"].pk not in roles and u["bl1"].pk not in roles


def test_a_building_placard_tells_every_micro_unit_leader_of_the_building(client, world):
    p = placard(world, Placard.Kind.BUILDING)
    appeal = Appeal.objects.get(tracking=post(client, p).json()["tracking"])
    roles = told(appeal)
    assert roles[world.users["mul1"].pk] == roles[world.users["mul2"].pk] == "micro_unit_leader"


def move_edge_south(world: World, to: float) -> None:
    """The B|C edge (26.40) moves south to `to`: B grows, C shrinks (two new versions)."""
    def box(x0, y0, x1, y1):
        return MultiPolygon(Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))),
                            srid=4326)
    with transaction.atomic():  # as an edit runs: the layers re-assign in the same transaction
        changes = replace_boundaries([(B, box(117.80, to, 117.81, 26.41)),
                                      (C, box(117.80, 26.39, 117.81, to))])
        announce(changes)


def test_after_a_boundary_edit_the_same_placard_routes_to_the_new_grid(client, world: World):
    p = placard(world, Placard.Kind.BUILDING, building="c1")
    first = Appeal.objects.get(tracking=post(client, p).json()["tracking"])
    assert first.grid.code == C
    move_edge_south(world, 26.398)
    second = Appeal.objects.get(tracking=post(client, p).json()["tracking"])
    assert second.grid.code == B and second.grid.valid_to is None
    assert world.users["gw_b"].pk in told(second) and world.users["gw_c"].pk not in told(second)


def test_a_pin_moved_far_is_assigned_by_the_pin_and_is_not_about_the_door(client, world):
    p = placard(world)  # in A at (117.795, 26.40)
    limit = 150
    near = 117.795 + (limit - 20) * METRE_LON
    r = post(client, p, {"lon": near, "lat": 26.40})
    at_door = Appeal.objects.get(tracking=r.json()["tracking"])
    assert r.json()["at_door"] and at_door.building_id and at_door.grid.code == A
    assert math.isclose(at_door.location.x, 117.795)  # the placard's point, not the pin
    r = post(client, p, {"lon": 117.805, "lat": 26.405})  # ~1 km away, in B
    moved = Appeal.objects.get(tracking=r.json()["tracking"])
    assert not r.json()["at_door"] and moved.building_id is None and moved.grid.code == B
    roles = told(moved)
    assert world.users["gw_b"].pk in roles
    assert world.users["mul1"].pk not in roles and world.users["bl1"].pk not in roles


def test_a_shop_placard_has_no_building_and_tells_the_grid(client, world: World):
    shop = services.create_placard(world.viewer("root"), kind="shop", name="老王小吃",
                                   lon=117.806, lat=26.405)
    assert shop.building_id is None and shop.unit_no is None
    appeal = Appeal.objects.get(tracking=post(client, shop).json()["tracking"])
    assert appeal.building_id is None and appeal.grid.code == B
    assert set(told(appeal)) == {world.users["gw_b"].pk, world.users["gl_b"].pk}


def test_revoked_is_410_and_files_nothing(client, world: World):
    p = placard(world)
    services.revoke(p.pk, world.viewer("root"), reason="贴错位置")
    r = post(client, p)
    assert r.status_code == 410 and r.json()["code"] == "gone"
    assert {"detail", "code", "fields", "problems"} <= set(r.json())
    assert not Appeal.objects.exists() and not Notification.objects.exists()


def test_unknown_and_malformed_tokens_are_404(client, world: World):
    placard(world)
    for token in ("A" * 26, "not-a-token", "a" * 300):
        r = client.post(f"/api/v1/placards/scan/{token}/appeal/", {"category": "E0102"},
                        content_type="application/json")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert not Appeal.objects.exists()


def test_a_lower_case_token_is_the_same_placard(client, world: World):
    p = placard(world)
    r = client.post(f"/api/v1/placards/scan/{p.token.lower()}/appeal/",
                    {"category": "E0102"}, content_type="application/json")
    assert r.status_code == 201


BAD = [
    ({"category": 7}, "category"),
    ({"category": ""}, "category"),
    ({"category": "NOPE"}, "category"),
    ({"description": "灯\x00坏"}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"lon": "NaN", "lat": 26.4}, "lon"),
    ({"lon": "1e999", "lat": 26.4}, "lon"),
    ({"lon": 117.8}, "lat"),
    ({"lon": 200, "lat": 26.4}, "lon"),
    ({"contact_phone": "call me"}, "contact_phone"),
    ({"photos": "x"}, "photos"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_input_is_400_in_the_one_shape_and_changes_nothing(client, world, body, field):
    p = placard(world)
    events = PlacardEvent.objects.count()
    r = post(client, p, body)
    assert r.status_code == 400, r.content
    shape = r.json()
    assert {"detail", "code", "fields", "problems"} <= set(shape) and shape["code"] == "invalid"
    assert field in shape["fields"]
    assert not Appeal.objects.exists() and not AppealEvent.objects.exists()
    assert not Notification.objects.exists() and not PlacardScanDay.objects.exists()
    assert PlacardEvent.objects.count() == events


def test_a_body_that_is_not_an_object_is_400(client, world: World):
    p = placard(world)
    for raw in ("[1, 2]", "\"text\"", "{", "null"):
        r = client.post(f"/api/v1/placards/scan/{p.token}/appeal/", raw,
                        content_type="application/json")
        assert r.status_code == 400, (raw, r.content)
    assert not Appeal.objects.exists()


def test_anonymous_reports_are_rate_limited_per_address(client, world, settings):
    settings.GEOGRID = {**settings.GEOGRID, "APPEAL_ANON_RATE": (2, 3600)}
    p = placard(world)
    assert [post(client, p).status_code for _ in range(3)] == [201, 201, 429]
    assert Appeal.objects.count() == 2


def test_staff_reporting_through_a_placard_is_not_rate_limited(client, world, settings):
    settings.GEOGRID = {**settings.GEOGRID, "APPEAL_ANON_RATE": (1, 3600)}
    p = placard(world)
    worker = make_user("grid_worker")
    assign(worker, world.grids[A], Post.GRID_WORKER)
    client.force_login(worker)
    assert [post(client, p).status_code for _ in range(2)] == [201, 201]


def test_a_report_may_carry_photos(client, world: World):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    p = placard(world)
    r = client.post(f"/api/v1/placards/scan/{p.token}/appeal/", {
        "category": "E0102", "description": "墙皮脱落", "lon": "117.795", "lat": "26.4",
        "photos": [SimpleUploadedFile("wall.png", out.getvalue(), content_type="image/png")]})
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(tracking=r.json()["tracking"])
    assert appeal.photos.count() == 1 and appeal.building_id == world.buildings["a1"].pk
