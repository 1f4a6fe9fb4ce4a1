"""The grid hierarchy model: PostGIS underneath, levels, codes, boundaries, area in metres."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from geogrid.grids import create_grid
from geogrid.models import Grid
from tests.factories import make_grid, make_tree, square

pytestmark = pytest.mark.django_db


def test_test_database_is_postgis():
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"].startswith("test_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension WHERE extname = 'postgis'")
        assert cursor.fetchone() == ("postgis",)
        cursor.execute("SELECT ST_Area(ST_MakeEnvelope(0, 0, 2, 3))")
        assert cursor.fetchone()[0] == 6


def test_area_of_a_1km_square_at_26_degrees_is_a_square_kilometre():
    grid = make_grid("350427", boundary=square(0, 0, 1000))
    assert grid.boundary.srid == 4326
    assert grid.area_m2 == pytest.approx(1_000_000, rel=0.005)
    # Stored, not only computed on the instance: the database column agrees.
    assert Grid.objects.get(pk=grid.pk).area_m2 == pytest.approx(1_000_000, rel=0.005)


def test_area_follows_a_boundary_change():
    grid = make_grid("350427", boundary=square(0, 0, 1000))
    grid.boundary = square(0, 0, 2000)
    grid.save()
    grid.refresh_from_db()
    assert grid.area_m2 == pytest.approx(4_000_000, rel=0.005)


def test_polygon_is_promoted_and_other_srids_reprojected():
    poly = square(0, 0, 500, srid_out=3857)[0]
    assert isinstance(poly, Polygon) and poly.srid == 3857
    grid = make_grid("350427", boundary=poly)
    assert isinstance(grid.boundary, MultiPolygon) and grid.boundary.srid == 4326
    assert grid.boundary.centroid.x == pytest.approx(117.79, abs=0.02)
    assert grid.area_m2 == pytest.approx(250_000, rel=0.005)


def test_parent_must_be_exactly_one_level_up():
    tree = make_tree()
    with pytest.raises(ValidationError) as err:
        make_grid("350427001001001", parent=tree["350427001"])  # zone under a subdistrict
    assert err.value.message_dict["parent"] == [
        "the parent of a zone must be a community, not a subdistrict"
    ]


def test_non_district_needs_a_parent_and_district_has_none():
    tree = make_tree()
    with pytest.raises(ValidationError) as err:
        make_grid("350427003")
    assert "needs a parent grid one level up" in err.value.message_dict["parent"][0]
    with pytest.raises(ValidationError) as err:
        make_grid("350428", parent=tree["350427"])
    assert err.value.message_dict["parent"] == ["a district has no parent grid"]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("35042700A", "must consist of digits only"),
        ("3504270010", "a subdistrict code has 9 digits, '3504270010' has 10"),
        ("350428001", "does not start with its parent's code '350427'"),
        ("350427000", "must not be all zeros"),
    ],
)
def test_malformed_codes_are_rejected(code, message):
    district = make_grid("350427", boundary=square(0, 0, 2000))
    with pytest.raises(ValidationError) as err:
        make_grid(code, parent=district, level=2)
    assert message in err.value.message_dict["code"][0]
    assert Grid.objects.count() == 1


def test_two_current_grids_cannot_share_a_code_but_versions_can():
    first = make_grid("350427")
    with pytest.raises(ValidationError) as err:
        make_grid("350427")
    assert "already exists" in str(err.value)
    first.valid_to = first.valid_from.replace(year=first.valid_from.year + 1)
    first.save()
    second = make_grid("350427", boundary=square(0, 0, 1500))
    assert list(Grid.objects.current()) == [second]
    assert Grid.objects.filter(code="350427").count() == 2


def _bowtie() -> Polygon:
    return Polygon(
        ((117.0, 26.0), (117.01, 26.01), (117.01, 26.0), (117.0, 26.01), (117.0, 26.0)), srid=4326
    )


@pytest.mark.parametrize(
    ("boundary", "message"),
    [
        (None, "a boundary is required"),
        (GEOSGeometry("MULTIPOLYGON EMPTY", srid=4326), "the boundary is empty"),
        (_bowtie(), "invalid geometry: Self-intersection"),
        (
            LineString((117.0, 26.0), (117.01, 26.01), srid=4326),
            "must be a Polygon or MultiPolygon, not a LineString",
        ),
        (
            GEOSGeometry("POLYGON((117 26, 117.01 26, 117.02 26, 117 26))", srid=4326),
            "invalid geometry",
        ),
        (
            GEOSGeometry("POLYGON((26 117, 26.01 117, 26.01 117.01, 26 117))", srid=4326),
            "outside longitude",
        ),
        (
            GEOSGeometry("POLYGON((117 26, 117.01 26, 117.01 26.01, 117 26))"),
            "no coordinate reference system",
        ),
    ],
    ids=[
        "missing",
        "empty",
        "self-intersecting",
        "line",
        "degenerate",
        "lat-lon-swapped",
        "no-srid",
    ],
)
def test_bad_boundaries_are_rejected_with_a_reason(boundary, message):
    with pytest.raises(ValidationError) as err:
        create_grid(level=1, code="350427", name="沙县区", boundary=boundary)
    assert message in err.value.message_dict["boundary"][0]
    assert not Grid.objects.exists()


def test_database_refuses_an_invalid_boundary_even_without_validation():
    with pytest.raises(IntegrityError, match="grid_boundary_valid"), transaction.atomic():
        Grid.objects.create(level=1, code="350427", name="x", boundary=MultiPolygon(_bowtie()))
    assert not Grid.objects.exists()


def test_subtree_and_as_of_queries():
    tree = make_tree()
    codes = set(Grid.objects.subtree("350427001").values_list("code", flat=True))
    assert codes == {c for c in tree if c.startswith("350427001")}
    assert len(codes) == 5
    district = tree["350427"]
    before = district.valid_from.replace(year=2000)
    assert not Grid.objects.as_of(before).exists()
    assert Grid.objects.as_of(district.valid_from).filter(code="350427").get() == district


def test_messages_are_chinese_in_the_default_language():
    from django.utils import translation

    district = make_grid("350427", boundary=square(0, 0, 2000))
    with translation.override("zh-hans"), pytest.raises(ValidationError) as err:
        make_grid("350427001001", parent=district)
    assert err.value.message_dict["parent"] == ["社区的上级必须是街道，而不是区"]
