"""The topology check (staged in temporary tables, validity computed once, no JIT) gives exactly
the problems of the reference statements it replaced, on planted edge cases and on random ones."""

from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from django.db import connection

from geogrid.models import Grid
from geogrid.topology import Kind, Problem, Tolerances, TopologyReport, _check, check_codes
from tests.factories import GK_CM_117, ORIGIN_E, ORIGIN_N, make_grid, make_tree
from tests.geogrid.topology_reference import reference_check

pytestmark = pytest.mark.django_db

WEST_ZONE, EAST_ZONE = "350427001001001", "350427002001001"
MICRO = [WEST_ZONE + "001", WEST_ZONE + "002", EAST_ZONE + "001", EAST_ZONE + "002"]
# Where each micro-grid of make_tree lies: (x, y) of its south-west corner, 1000 m squares.
CORNER = {MICRO[0]: (0, 1000), MICRO[1]: (0, 0), MICRO[2]: (1000, 1000), MICRO[3]: (1000, 0)}


def rect(x: float, y: float, w: float, h: float) -> Polygon:
    x0, y0 = ORIGIN_E + x, ORIGIN_N + y
    ring = ((x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h), (x0, y0))
    return Polygon(ring, srid=GK_CM_117).transform(4326, clone=True)


def multi(*parts: Polygon) -> MultiPolygon:
    return MultiPolygon(*parts, srid=4326)


def plant(code: str, boundary: GEOSGeometry) -> None:
    Grid.objects.filter(code=code, valid_to__isnull=True).update(boundary=boundary)


def key(p: Problem) -> tuple:
    area = None if p.area_m2 is None else round(p.area_m2, 2)
    return (str(p.kind), p.code, p.other_code or "", area if area is not None else -1.0,
            p.detail, p.message, p.geometry is None)


def same_as_reference(
    ids: list[int] | None = None, tol: Tolerances | None = None
) -> TopologyReport:
    ids = ids if ids is not None else list(Grid.objects.current().values_list("id", flat=True))
    fast, ref = _check(ids, tol), reference_check(ids, tol)
    assert sorted(map(key, fast.problems)) == sorted(map(key, ref.problems))
    assert (fast.families, fast.grids) == (ref.families, ref.grids)
    return fast


@pytest.fixture
def tree():
    return make_tree()


def test_planted_overlap_outside_and_gap(tree):
    plant(MICRO[0], multi(rect(0, 950, 1000, 1050)))
    plant(MICRO[2], multi(rect(1000, 1000, 1030, 1000)))
    plant(MICRO[3], multi(rect(1000, 0, 1000, 900)))
    report = same_as_reference()
    assert sorted(p.kind for p in report.problems) == [Kind.GAP, Kind.OUTSIDE_PARENT, Kind.OVERLAP]


def test_invalid_and_empty_boundaries():
    # The table refuses invalid boundaries; a raw edit could still leave one behind (the test's
    # transaction puts the constraint back).
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE geogrid_grid DROP CONSTRAINT grid_boundary_valid")
    make_tree()
    x0, y0 = ORIGIN_E, ORIGIN_N + 1000
    bowtie = Polygon(((x0, y0), (x0 + 1000, y0 + 1000), (x0 + 1000, y0), (x0, y0 + 1000),
                      (x0, y0)), srid=GK_CM_117).transform(4326, clone=True)
    plant(MICRO[0], multi(bowtie))
    plant(MICRO[3], MultiPolygon(srid=4326))
    report = same_as_reference()
    invalid = report.of_kind(Kind.INVALID)
    assert [p.code for p in invalid] == [MICRO[0]]
    assert invalid[0].message.startswith(f"grid {MICRO[0]}: invalid geometry: Self-intersection")
    assert [p.code for p in report.of_kind(Kind.EMPTY)] == [MICRO[3]]


def test_slivers_thin_and_tiny(tree):
    # A 0.4 m wide strip (thin: found by compactness) and a 0.8 m square (compact, under 1 m²:
    # found by its area only) as extra parts of two micro-grids.
    plant(MICRO[0], multi(rect(0, 1000, 1000, 990), rect(100, 1995, 200, 0.4)))
    plant(MICRO[2], multi(rect(1000, 1000, 1000, 990), rect(1500, 1995, 0.8, 0.8)))
    report = same_as_reference()
    slivers = sorted(report.of_kind(Kind.SLIVER), key=lambda p: p.code)
    assert [p.code for p in slivers] == [MICRO[0], MICRO[2]]
    assert slivers[1].area_m2 == pytest.approx(0.64, rel=0.05)
    assert slivers[1].message.endswith("(part 2 is narrower than 1 m)")


def test_district_overlap_and_check_codes(tree):
    make_grid("350428", boundary=multi(rect(1900, 0, 1000, 1000)))  # 100 m into 350427
    ids = list(Grid.objects.current().filter(code="350428").values_list("id", flat=True))
    report = same_as_reference(ids)
    assert [(p.kind, p.code, p.other_code) for p in report.problems] == [
        (Kind.OVERLAP, "350427", "350428")
    ]
    assert [key(p) for p in check_codes(["350428"]).problems] == [key(report.problems[0])]


def test_tolerances_are_applied_alike(tree):
    plant(MICRO[2], multi(rect(1000, 1000, 1000.3, 1000)))  # 0.3 m out
    plant(MICRO[0], multi(rect(0, 999.6, 1000, 1000.4)))  # 0.4 m wide overlap
    assert same_as_reference().ok
    strict = Tolerances(outside_parent_m=0.1, hairline_m=0.1)
    assert len(same_as_reference(tol=strict).problems) == 2


def test_random_edits_give_the_reference_answers(tree):
    rng = random.Random(16)
    ids = list(Grid.objects.current().values_list("id", flat=True))
    seen: set[str] = set()
    for _ in range(12):
        for code in rng.sample(MICRO, rng.randint(1, 3)):
            x, y = CORNER[code]
            dx, dy = (rng.choice([0.0, rng.uniform(-60, 60)]) for _ in range(2))
            dw, dh = (rng.choice([0.0, rng.uniform(-60, 60)]) for _ in range(2))
            parts = [rect(x + dx, y + dy, 1000 + dw, 1000 + dh)]
            if rng.random() < 0.3:  # a thin part just north of it (maybe in the sibling)
                top = y + dy + 1000 + dh + rng.uniform(1, 30)
                parts.append(rect(x + 100, top, rng.uniform(50, 300), rng.uniform(0.2, 3)))
            plant(code, multi(*parts))
        report = same_as_reference(ids)
        seen |= {str(p.kind) for p in report.problems}
        if rng.random() < 0.5:  # back to the clean tree now and then
            for code, (x, y) in CORNER.items():
                plant(code, multi(rect(x, y, 1000, 1000)))
    assert {"gap", "overlap", "outside_parent"} <= seen
