"""Every check of a grid import still reports what it found, by code and with its message, now
that the topology check runs on staged tables and the receivers only stage what can move."""

from __future__ import annotations

import pandas as pd
import pyogrio
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.utils import timezone

from fixtures.samples.make_samples import EAST, ORIGIN_E, ORIGIN_N, WEST, hierarchy
from geogrid.models import Grid
from geogrid.topology import Kind, Problem
from importers.grids import GridImportParams, import_grids
from layers.appeals.models import Appeal, Reassignment
from layers.buildings.models import Building
from tests.layers.factories import category

pytestmark = pytest.mark.django_db


def box_m(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A rectangle in EPSG:4548 metres from the samples' origin, with a vertex every 100 m."""
    shape = shapely.box(ORIGIN_E + x, ORIGIN_N + y, ORIGIN_E + x + w, ORIGIN_N + y + h)
    return shapely.segmentize(shape, 100.0)


def variant(tmp_path, replaced: dict[str, shapely.Geometry] | None = None, extra=None):
    """The sample hierarchy, some boundaries replaced and rows added, as GeoJSON (EPSG:4326)."""
    grids = hierarchy()
    for code, shape in (replaced or {}).items():
        grids.loc[grids["code"] == code, "geometry"] = shape
    if extra is not None:
        grids = pd.concat([grids, extra], ignore_index=True)
    path = tmp_path / "variant.geojson"
    pyogrio.write_dataframe(grids.to_crs(4326), path)
    return path


def blocked(path) -> list[Problem]:
    report = import_grids(GridImportParams(path=path, commit=True))
    assert not report.ok and not report.committed
    assert not Grid.objects.exists()
    assert report.blocking() == [p.message for p in report.topology]
    return report.topology


def test_an_overlap_between_siblings_is_reported(tmp_path):
    path = variant(tmp_path, {WEST + "001": box_m(0, 900, 1000, 1100)})  # 100 m into 002
    (overlap,) = blocked(path)
    assert (overlap.kind, overlap.code, overlap.other_code) == (Kind.OVERLAP, WEST + "001",
                                                               WEST + "002")
    assert overlap.area_m2 == pytest.approx(100_000, rel=0.01)
    assert overlap.message == (
        f"grid {WEST}001 overlaps sibling {WEST}002 by {overlap.area_m2:,.1f} m²"
    )


def test_a_child_outside_its_parent_is_reported(tmp_path):
    path = variant(tmp_path, {EAST + "001": box_m(1000, 1000, 1050, 1000)})  # 50 m east
    outside = [p for p in blocked(path) if p.kind == Kind.OUTSIDE_PARENT]
    assert [(p.code, p.other_code) for p in outside] == [(EAST + "001", EAST)]
    assert outside[0].area_m2 == pytest.approx(50_000, rel=0.01)
    assert outside[0].message == (
        f"grid {EAST}001 lies outside its parent {EAST} by {outside[0].area_m2:,.1f} m²"
    )


def test_a_gap_is_reported_and_allow_gaps_turns_it_into_a_warning(tmp_path):
    path = variant(tmp_path, {EAST + "002": box_m(1000, 0, 1000, 900)})  # 100 m short
    (gap,) = blocked(path)
    assert (gap.kind, gap.code) == (Kind.GAP, EAST)
    assert gap.area_m2 == pytest.approx(100_000, rel=0.01)
    assert gap.message == f"grid {EAST}: a gap of {gap.area_m2:,.1f} m² not covered by its children"
    allowed = import_grids(GridImportParams(path=path, commit=True, allow_gaps=True))
    assert allowed.ok and allowed.committed
    assert [p.message for p in allowed.warnings] == [gap.message]


def test_an_invalid_ring_and_a_duplicate_code_are_rejected_per_feature(tmp_path):
    x0, y0 = ORIGIN_E + 1000, ORIGIN_N
    bowtie = shapely.Polygon([(x0, y0), (x0 + 1000, y0 + 1000), (x0 + 1000, y0),
                              (x0, y0 + 1000), (x0, y0)])
    grids = hierarchy()
    duplicate = grids[grids["code"] == WEST + "001"].copy()
    path = variant(tmp_path, {EAST + "002": bowtie}, extra=duplicate)
    report = import_grids(GridImportParams(path=path, commit=True))
    assert not report.committed and not Grid.objects.exists()
    rejected = [str(r) for r in report.rejected]
    assert rejected[0].startswith(
        f"feature 8 (code {EAST}002): invalid geometry: Self-intersection["
    )
    assert rejected[1] == (
        f"feature 9 (code {WEST}001): code {WEST}001 appears again (first at feature 5)"
    )
    assert [r.field for r in report.rejected] == ["geometry", "code"]


def test_a_first_import_moves_nothing_and_a_changed_edge_moves_what_lies_near_it(tmp_path):
    first = import_grids(GridImportParams(path=variant(tmp_path), commit=True))
    assert first.ok and first.committed and len(first.created) == 9
    assert "announce" in first.seconds
    # A building and an open appeal 50 m south of the edge between the west micro-grids (in
    # 002), a closed appeal there too, and a building far from any change.
    near = _point(500, 950)
    far = _point(1500, 500)
    grid_002 = Grid.objects.current().get(code=WEST + "002")
    moved = Building.objects.create(source_id="near", address="a", estate_or_road="a",
                                    building_no="1", location=near, grid=grid_002)
    still = Building.objects.create(source_id="far", address="b", estate_or_road="b",
                                    building_no="2", location=far,
                                    grid=Grid.objects.current().get(code=EAST + "002"))
    # A building near the edge whose stored grid is stale (not a changed grid): found only by
    # the changed area, not by the replaced versions.
    stale = Building.objects.create(source_id="stale", address="c", estate_or_road="c",
                                    building_no="3", location=_point(500, 1020),
                                    grid=Grid.objects.current().get(code=EAST + "001"))
    open_appeal = _appeal(near, grid_002, "received", 1)
    closed_appeal = _appeal(near, grid_002, "closed", 2)
    # Move the shared edge 100 m south: the point is now in 001.
    path = variant(tmp_path, {WEST + "001": box_m(0, 900, 1000, 1100),
                              WEST + "002": box_m(0, 0, 1000, 900)})
    report = import_grids(GridImportParams(path=path, commit=True))
    assert report.ok, report.lines()
    new_001 = Grid.objects.current().get(code=WEST + "001")
    for row in (moved, still, stale, open_appeal, closed_appeal):
        row.refresh_from_db()
    assert moved.grid == new_001 and open_appeal.grid == new_001 and stale.grid == new_001
    assert closed_appeal.grid == grid_002  # history stays as it was
    assert still.grid.code == EAST + "002"
    assert Reassignment.objects.filter(building=moved).count() == 1
    assert not Reassignment.objects.filter(building=still).exists()
    assert open_appeal.events.filter(kind="reassigned").count() == 1


def _point(x_m: float, y_m: float) -> Point:
    return Point(ORIGIN_E + x_m, ORIGIN_N + y_m, srid=4548).transform(4326, clone=True)


def _appeal(point: Point, grid: Grid, status: str, n: int) -> Appeal:
    return Appeal.objects.create(
        tracking=f"350427-20250601-{n:05d}", district_code="350427", location=point,
        category=category(), channel="mobile", grid=grid, assignment="covers",
        reported_at=timezone.now(), status=status,
    )
