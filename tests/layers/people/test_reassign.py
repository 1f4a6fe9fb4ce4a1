"""A boundary edit moves micro-units with their buildings, records it, and flags a unit whose
buildings end up in two micro-grids."""

from __future__ import annotations

import pytest
from django.utils import timezone

from geogrid.models import Grid
from geogrid.signals import BoundaryChange, boundaries_changed
from layers.people.models import ChangeEvent, MicroUnit
from tests.layers.factories import B, C, box, make_city
from tests.layers.people.factories import make_building, make_dwelling, make_micro_unit

pytestmark = pytest.mark.django_db


def test_a_boundary_edit_moves_units_with_their_buildings_and_flags_split_ones():
    grids = make_city(with_staff=False)
    moving = make_micro_unit(grids[B], "001", name="整体移动")
    split = make_micro_unit(grids[B], "002", name="被切开")
    staying = make_micro_unit(grids[B], "003", name="不动")
    south = make_building(grids[B], 117.805, 26.4025, number="1")  # will lie in C
    south2 = make_building(grids[B], 117.806, 26.4020, number="2")  # will lie in C
    north = make_building(grids[B], 117.805, 26.408, number="3")  # stays in B
    make_dwelling(south, "101", micro_unit=moving)
    make_dwelling(south, "102", micro_unit=moving)
    make_dwelling(south2, "101", micro_unit=split)
    make_dwelling(north, "101", micro_unit=split)
    make_dwelling(north, "102", micro_unit=split)
    make_dwelling(north, "201", micro_unit=staying)

    # C grows north to 26.405; B shrinks: new versions of both.
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

    new_b, new_c = (Grid.objects.current().get(code=c) for c in (B, C))
    moving.refresh_from_db()
    split.refresh_from_db()
    staying.refresh_from_db()
    assert (moving.grid, moving.needs_review) == (new_c, False)
    assert (staying.grid, staying.needs_review) == (new_b, False)  # re-pointed to B's version
    assert split.grid == new_b and split.needs_review  # two of its three rooms stay in B
    assert "2 micro-grids" in split.review_note
    rows = {e.micro_unit_id: e for e in ChangeEvent.objects.filter(kind="grid_changed")}
    assert rows[moving.pk].diff == {"old_grid": B, "new_grid": C, "micro_grids": 1}
    assert rows[split.pk].diff["micro_grids"] == 2 and rows[split.pk].source == "system"
    assert MicroUnit.objects.filter(grid__valid_to__isnull=False).count() == 0
