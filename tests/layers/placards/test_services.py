"""The placard actions: scope, timeline, revoke and reprint, bulk creation."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from geogrid.errors import Conflict, NotFound
from layers.placards import services
from layers.placards.models import Placard, PlacardEvent
from tests.factories import make_user
from tests.layers.factories import A
from tests.layers.people.factories import make_building, make_dwelling
from tests.layers.placards.factories import World, placard

pytestmark = pytest.mark.django_db


def test_grid_staff_create_on_their_grid_only(world: World):
    a1 = world.buildings["a1"].pk
    p = services.create_placard(world.viewer("gw_a"), kind="stairwell", building=a1, unit_no=2)
    assert p.status == "active" and p.created_by == world.users["gw_a"]
    assert PlacardEvent.objects.get(placard=p).data == {"grid": A}
    with pytest.raises(ValidationError) as exc:  # B's worker does not see A's buildings
        services.create_placard(world.viewer("gw_b"), kind="building", building=a1)
    assert "building" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.create_placard(world.viewer("gw_b"), kind="shop", name="店", lon=117.795,
                                lat=26.40)
    for name in ("resident", "mul1", "bl1"):  # leaders hold no PLACARD_MANAGE
        with pytest.raises((ValidationError, PermissionDenied)):
            services.create_placard(world.viewer(name), kind="building", building=a1)
    services.create_placard(world.viewer("cs"), kind="building", building=a1)  # community


def test_create_checks_the_door(world: World):
    root = world.viewer("root")
    a1 = world.buildings["a1"].pk
    for fields, field in [({"kind": "stairwell", "building": a1, "unit_no": 7}, "unit_no"),
                          ({"kind": "stairwell", "building": a1}, "unit_no"),
                          ({"kind": "building"}, "building"),
                          ({"kind": "building", "building": 999_999}, "building"),
                          ({"kind": "shop", "name": " "}, "name"),
                          ({"kind": "shop", "name": "店"}, "lon")]:
        with pytest.raises(ValidationError) as exc:
            services.create_placard(root, **fields)
        assert field in exc.value.message_dict
    placard(world)
    with pytest.raises(Conflict):  # the door has one already
        placard(world)
    assert Placard.objects.count() == 1


def test_revoke_and_its_refusals(world: World):
    p = placard(world)
    with pytest.raises(NotFound):
        services.revoke(p.pk, world.viewer("gw_b"), reason="x")
    with pytest.raises(Conflict):
        services.revoke(p.pk, world.viewer("gw_a"), reason="x", version=p.version + 5)
    done = services.revoke(p.pk, world.viewer("gw_a"), reason="被撕毁", version=p.version)
    assert done.status == "revoked" and done.revoked_by == world.users["gw_a"]
    assert done.revoke_reason == "被撕毁" and done.revoked_at is not None
    with pytest.raises(Conflict):
        services.revoke(p.pk, world.viewer("gw_a"), reason="again")
    assert list(PlacardEvent.objects.filter(placard=p).values_list("kind", flat=True)) == [
        "created", "revoked"]


def test_reprint_with_a_new_token_revokes_the_old_one(world: World):
    old = placard(world)
    new = services.reprint(old.pk, world.viewer("gw_a"))
    old.refresh_from_db()
    assert new.pk != old.pk and new.token != old.token
    assert new.print_version == 2 and new.replaces == old and old.replaced_by == new
    assert old.status == "revoked" and "2" in old.revoke_reason
    assert (new.kind, new.building_id, new.unit_no) == (old.kind, old.building_id, old.unit_no)


def test_reprint_may_keep_the_token(world: World, settings):
    p = placard(world)
    same = services.reprint(p.pk, world.viewer("gw_a"), new_token=False)
    assert same.pk == p.pk and same.token == p.token and same.print_version == 2
    settings.GEOGRID = {**settings.GEOGRID,
                        "PLACARDS": {**settings.GEOGRID["PLACARDS"], "REPRINT_NEW_TOKEN": False}}
    again = services.reprint(p.pk, world.viewer("gw_a"))
    assert again.token == p.token and again.print_version == 3


def test_bulk_creates_a_placard_per_building_and_stairwell_once(world: World):
    # A third building in A with one unit: a building placard, no stairwell placard.
    b = make_building(world.grids[A], 117.792, 26.395, number="12", units=1)
    make_dwelling(b, "101", unit_no=1, micro_unit=world.units["U1"])
    result = services.bulk_create(world.viewer("gw_a"), grid=A)
    assert (result.building, result.stairwell) == (2, 2)  # a1, b; a1's units 1 and 2
    kinds = sorted(Placard.objects.values_list("kind", "building_id", "unit_no"))
    a1 = world.buildings["a1"].pk
    assert kinds == sorted([("building", a1, None), ("building", b.pk, None),
                            ("stairwell", a1, 1), ("stairwell", a1, 2)])
    assert PlacardEvent.objects.filter(kind="created").count() == 4
    assert len(set(Placard.objects.values_list("token", flat=True))) == 4
    again = services.bulk_create(world.viewer("gw_a"), grid=A)
    assert (again.building, again.stairwell) == (0, 0)


def test_bulk_is_scoped_and_limited(world: World, settings):
    with pytest.raises(PermissionDenied):
        services.bulk_create(world.viewer("gw_b"), grid=A)
    with pytest.raises(NotFound):
        services.bulk_create(world.viewer("root"), grid="999999")
    settings.GEOGRID = {**settings.GEOGRID,
                        "PLACARDS": {**settings.GEOGRID["PLACARDS"], "BULK_MAX": 1}}
    with pytest.raises(ValidationError):
        services.bulk_create(world.viewer("cs"), grid=world.grids[A].code[:12])
    assert not Placard.objects.exists()
    only = services.bulk_create(world.viewer("root"), grid=world.grids[A].code,
                                kinds=["building"])
    assert only.building == 1 and only.stairwell == 0 and Placard.objects.count() == 1
    assert make_user() is not None
