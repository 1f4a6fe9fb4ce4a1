"""Boundary versions: an edit closes the old row, keeps history, re-points, and can be refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from geogrid.models import Grid, Post, StaffAssignment
from geogrid.signals import boundaries_changed
from geogrid.versions import StaleVersion, TopologyRejected, create_checked, edit_boundary, history
from tests.factories import _rect, assign, make_tree, make_user

pytestmark = pytest.mark.django_db

ZONE = "350427001001001"
NORTH, SOUTH = ZONE + "001", ZONE + "002"


def area_in(message: str) -> float:
    return float(re.search(r"by ([0-9,.]+) m²", message).group(1).replace(",", ""))


@pytest.fixture
def tree():
    return make_tree()


@pytest.fixture
def manager(tree):
    user = make_user("grid_manager")
    assign(user, tree[ZONE], Post.MANAGER)
    return user


@pytest.fixture
def received():
    calls = []

    def receiver(sender, changes, actor, **kwargs):
        calls.append((changes, actor))

    boundaries_changed.connect(receiver)
    yield calls
    boundaries_changed.disconnect(receiver)


def test_an_edit_closes_the_old_version_and_repoints_children_and_staff(tree, manager, received):
    zone = tree[ZONE]
    community = tree["350427001001"]
    leader = make_user("grid_worker")
    current_post = assign(leader, zone, Post.ZONE_LEADER)
    ended_post = assign(leader, zone, Post.GRID_WORKER, until=dt.date(2020, 1, 1))
    boss = make_user("grid_manager")
    assign(boss, community, Post.MANAGER)
    before = timezone.now()

    # Shrink the zone's north edge by 10 m: its north micro-grid now sticks out, so first shrink
    # that micro-grid (the manager of the zone may), then the zone (needs the community's manager).
    north = Grid.objects.current().get(code=NORTH)
    edit_boundary(NORTH, _rect(0, 1000, 1000, 990), version=north.pk, actor=manager)
    result = edit_boundary(ZONE, _rect(0, 0, 1000, 1990), version=zone.pk, actor=boss)

    versions = list(history(ZONE))
    assert [v.pk for v in versions] == [zone.pk, result.grid.pk]
    old, new = versions
    assert old.valid_to is not None and old.valid_to == new.valid_from and new.valid_to is None
    assert new.changed_by == boss and new.parent_id == community.pk
    assert new.area_m2 == pytest.approx(1_990_000, rel=0.001)
    assert set(Grid.objects.current().filter(parent=new).values_list("code", flat=True)) == {
        NORTH,
        SOUTH,
    }
    assert StaffAssignment.objects.get(pk=current_post.pk).grid_id == new.pk
    assert StaffAssignment.objects.get(pk=ended_post.pk).grid_id == zone.pk  # history stays
    # As-of: before the edit the point 5 m inside the old north edge was in the old version.
    assert Grid.objects.as_of(before).get(code=ZONE).pk == zone.pk
    assert Grid.objects.as_of(timezone.now()).get(code=ZONE).pk == new.pk

    changes, actor = received[-1]
    assert actor == boss
    assert [(c.code, c.old_version_id, c.new_version_id) for c in changes] == [
        (ZONE, zone.pk, new.pk)
    ]
    assert changes[0].changed_area.transform(32650, clone=True).area == pytest.approx(
        10_000, rel=0.01
    )


def test_a_stale_version_is_refused_and_nothing_changes(tree, manager):
    north = tree[NORTH]
    edit_boundary(NORTH, _rect(0, 1000, 1000, 990), version=north.pk, actor=manager)
    with pytest.raises(StaleVersion) as exc:
        edit_boundary(NORTH, _rect(0, 1000, 1000, 980), version=north.pk, actor=manager)
    current = Grid.objects.current().get(code=NORTH)
    assert exc.value.current_id == current.pk
    assert "changed by someone else" in str(exc.value)
    assert current.area_m2 == pytest.approx(990_000, rel=0.001)
    assert Grid.objects.filter(code=NORTH).count() == 2


def test_an_overlapping_edit_names_the_sibling_and_area_and_stores_nothing(tree, manager, received):
    north = tree[NORTH]
    with pytest.raises(TopologyRejected) as exc:
        edit_boundary(NORTH, _rect(0, 950, 1000, 1050), version=north.pk, actor=manager)
    (message,) = exc.value.messages
    assert message.startswith(f"grid {NORTH} overlaps sibling {SOUTH} by ")
    assert area_in(message) == pytest.approx(50_000, rel=0.01)
    assert Grid.objects.filter(code=NORTH).count() == 1
    assert Grid.objects.get(code=NORTH).valid_to is None
    assert received == []


def test_outside_parent_and_bad_geometry_are_refused(tree, manager):
    north = tree[NORTH]
    with pytest.raises(TopologyRejected) as exc:
        edit_boundary(NORTH, _rect(0, 1000, 1000, 1100), version=north.pk, actor=manager)
    assert f"grid {NORTH} lies outside its parent {ZONE} by " in exc.value.messages[0]
    assert area_in(exc.value.messages[0]) == pytest.approx(100_000, rel=0.01)
    bowtie = GEOSGeometry(
        "SRID=4326;POLYGON((117.8 26.4, 117.81 26.41, 117.81 26.4, 117.8 26.41, 117.8 26.4))"
    )
    with pytest.raises(ValidationError) as exc:
        edit_boundary(NORTH, bowtie, version=north.pk, actor=manager)
    assert "invalid geometry: Self-intersection[117.805" in exc.value.message_dict["boundary"][0]
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_only_managers_of_the_parent_subtree_may_edit(tree):
    stranger = make_user("grid_manager")
    assign(stranger, tree["350427002"], Post.MANAGER)
    with pytest.raises(PermissionDenied):
        edit_boundary(NORTH, _rect(0, 1000, 1000, 990), version=tree[NORTH].pk, actor=stranger)


def test_a_failing_receiver_aborts_the_edit(tree, manager):
    def refuse(sender, **kwargs):
        raise RuntimeError("layers refused")

    boundaries_changed.connect(refuse)
    try:
        with pytest.raises(RuntimeError):
            edit_boundary(NORTH, _rect(0, 1000, 1000, 990), version=tree[NORTH].pk, actor=manager)
    finally:
        boundaries_changed.disconnect(refuse)
    assert Grid.objects.filter(code=NORTH).count() == 1


def test_create_checked_refuses_an_overlapping_new_grid(tree, manager):
    zone = tree[ZONE]
    with pytest.raises(TopologyRejected) as exc:
        create_checked(
            level=5,
            code=ZONE + "003",
            name="new",
            boundary=_rect(0, 0, 500, 500),
            parent=zone,
            actor=manager,
        )
    assert f"overlaps sibling {ZONE}003" in exc.value.messages[0]
    assert not Grid.objects.filter(code=ZONE + "003").exists()
