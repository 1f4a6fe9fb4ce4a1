"""A boundary change re-assigns buildings and open appeals in the changed area, recorded."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from geogrid.models import Grid
from geogrid.signals import BoundaryChange, boundaries_changed
from layers.appeals.models import Appeal, Reassignment
from layers.buildings.models import Building
from tests.layers.factories import B, C, box, category, make_city

pytestmark = pytest.mark.django_db


def _appeal(point, grid, status="received", n=1):
    return Appeal.objects.create(
        tracking=f"350427-20250601-{n:05d}", district_code="350427", location=point,
        category=category(), channel="mobile", grid=grid, assignment="covers",
        reported_at=timezone.now(), status=status,
    )


def test_moving_an_edge_reassigns_and_records():
    grids = make_city(with_staff=False)
    point = Point(117.805, 26.4025, srid=4326)  # in B, 280 m north of the B|C edge
    building = Building.objects.create(source_id="x", address="a", estate_or_road="a",
                                       building_no="1", location=point, grid=grids[B])
    open_appeal = _appeal(point, grids[B])
    closed_appeal = _appeal(point, grids[B], status="closed", n=2)
    # C grows north to 26.405: a new version of C, B shrinks (new version of B).
    now = timezone.now()
    changes = []
    for code, geom in ((C, box(117.80, 26.39, 117.81, 26.405)),
                       (B, box(117.80, 26.405, 117.81, 26.41))):
        old = grids[code]
        Grid.objects.filter(pk=old.pk).update(valid_to=now)
        new = Grid.objects.create(level=5, code=code, name=old.name, parent=old.parent,
                                  boundary=geom, valid_from=now)
        changes.append(BoundaryChange(code, old.pk, new.pk, old.boundary.sym_difference(geom)))
    boundaries_changed.send(sender=Grid, changes=changes, actor=None)
    new_c = Grid.objects.current().get(code=C)
    building.refresh_from_db()
    open_appeal.refresh_from_db()
    closed_appeal.refresh_from_db()
    assert building.grid == new_c and open_appeal.grid == new_c
    assert closed_appeal.grid == grids[B]  # history stays as it was
    record = Reassignment.objects.get(appeal=open_appeal)
    assert (record.old_grid, record.new_grid) == (grids[B], new_c)
    assert Reassignment.objects.filter(building=building).exists()
    assert open_appeal.events.filter(kind="reassigned").count() == 1
