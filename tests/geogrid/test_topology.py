"""Topology checks find planted gaps, overlaps, out-of-parent parts and slivers, with areas."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.management import call_command

from geogrid.models import Grid
from geogrid.topology import Kind, Tolerances, check_grid, check_subtree
from tests.factories import GK_CM_117, ORIGIN_E, ORIGIN_N, make_tree

pytestmark = pytest.mark.django_db

WEST_ZONE, EAST_ZONE = "350427001001001", "350427002001001"


def rect(x: float, y: float, w: float, h: float) -> MultiPolygon:
    x0, y0 = ORIGIN_E + x, ORIGIN_N + y
    ring = ((x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0))
    return MultiPolygon(Polygon(ring), srid=GK_CM_117).transform(4326, clone=True)


def plant(code: str, boundary: MultiPolygon) -> None:
    # Bypass the services on purpose: a hierarchy can hold such data after raw edits.
    Grid.objects.filter(code=code, valid_to__isnull=True).update(boundary=boundary)


@pytest.fixture
def tree():
    return make_tree()


def test_a_clean_hierarchy_has_no_problems(tree):
    report = check_subtree()
    assert report.ok, [p.message for p in report.problems]
    assert report.families == 7  # every grid that has children: district … zones
    assert report.grids == len(tree)


def test_planted_problems_are_found_with_their_areas(tree):
    plant(WEST_ZONE + "001", rect(0, 950, 1000, 1050))  # overlaps 002 by 1000 × 50 m
    plant(EAST_ZONE + "001", rect(1000, 1000, 1030, 1000))  # 30 m out of the district's east
    plant(EAST_ZONE + "002", rect(1000, 0, 1000, 900))  # leaves a 1000 × 100 m gap
    report = check_subtree("350427")

    overlaps = report.of_kind(Kind.OVERLAP)
    assert [(p.code, p.other_code) for p in overlaps] == [(WEST_ZONE + "001", WEST_ZONE + "002")]
    assert overlaps[0].area_m2 == pytest.approx(50_000, rel=0.01)
    assert overlaps[0].geometry["type"] in ("Polygon", "MultiPolygon")

    outside = report.of_kind(Kind.OUTSIDE_PARENT)
    assert [(p.code, p.other_code) for p in outside] == [(EAST_ZONE + "001", EAST_ZONE)]
    assert outside[0].area_m2 == pytest.approx(30_000, rel=0.01)

    gaps = report.of_kind(Kind.GAP)
    assert [p.code for p in gaps] == [EAST_ZONE]
    assert gaps[0].area_m2 == pytest.approx(100_000, rel=0.01)
    assert "350427002001001 overlaps" not in " ".join(p.message for p in report.problems)
    assert outside[0].message == (
        f"grid {EAST_ZONE}001 lies outside its parent {EAST_ZONE} by {outside[0].area_m2:,.1f} m²"
    )


def test_parts_within_tolerance_are_not_problems(tree):
    plant(EAST_ZONE + "001", rect(1000, 1000, 1000.3, 1000))  # 0.3 m out: under 0.5 m
    plant(WEST_ZONE + "001", rect(0, 999.6, 1000, 1000.4))  # 0.4 m wide overlap: a hairline
    assert check_subtree().ok, [p.message for p in check_subtree().problems]
    strict = Tolerances(outside_parent_m=0.1, hairline_m=0.1)
    kinds = sorted(p.kind for p in check_subtree(tolerances=strict).problems)
    assert kinds == [Kind.OUTSIDE_PARENT, Kind.OVERLAP]


def test_a_sliver_part_is_reported(tree):
    body = rect(0, 1000, 1000, 1000)
    strip = rect(100, 1500, 200, 0.4)[0]  # a 0.4 m wide strip elsewhere: a second part
    plant(WEST_ZONE + "001", MultiPolygon(rect(0, 1000, 1000, 490)[0], strip, srid=4326))
    report = check_grid(WEST_ZONE + "001")
    assert body.srid == 4326
    slivers = report.of_kind(Kind.SLIVER)
    assert [p.code for p in slivers] == [WEST_ZONE + "001"]
    assert slivers[0].area_m2 == pytest.approx(80, rel=0.01)
    assert report.of_kind(Kind.GAP)  # the rest of the old micro-grid is now a gap


def test_check_grid_looks_at_the_family_only(tree):
    plant(EAST_ZONE + "002", rect(1000, 0, 1000, 900))
    assert check_grid(WEST_ZONE + "001").ok
    assert [p.kind for p in check_grid(EAST_ZONE + "001").problems] == [Kind.GAP]


def test_check_grids_command_prints_problems_and_geojson(tree, tmp_path, capsys):
    plant(EAST_ZONE + "002", rect(1000, 0, 1000, 900))
    out = tmp_path / "report.geojson"
    with pytest.raises(SystemExit) as exit_info:
        call_command("check_grids", "350427", "--geojson", str(out))
    assert exit_info.value.code == 1
    printed = capsys.readouterr().out
    assert f"grid {EAST_ZONE}: a gap of" in printed
    import json

    data = json.loads(out.read_text())
    assert data["features"][0]["properties"]["kind"] == "gap"
