"""Importing grid boundaries from the files grid managers bring, good and broken."""

from __future__ import annotations

import json
import re

import pyogrio
import pytest
import shapely
from django.core.management import CommandError, call_command

from fixtures.samples.make_samples import EAST, ORIGIN_E, ORIGIN_N, WEST, hierarchy, write_all
from geogrid.models import Grid
from importers.grids import GridImportParams, import_grids

pytestmark = pytest.mark.django_db

MICRO = [WEST + "001", WEST + "002", EAST + "001", EAST + "002"]
ALL_CODES = sorted(["350427", "350427001", "350427001001", WEST, EAST, *MICRO])


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("samples"))


def run(path, **kwargs):
    return import_grids(GridImportParams(path=path, **kwargs))


def box_m(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    """A rectangle in EPSG:4548 metres from the samples' origin, with a vertex every 100 m."""
    shape = shapely.box(ORIGIN_E + x, ORIGIN_N + y, ORIGIN_E + x + w, ORIGIN_N + y + h)
    return shapely.segmentize(shape, 100.0)


def write_variant(path, replaced: dict[str, shapely.Geometry]):
    """The sample hierarchy with some boundaries replaced, as GeoJSON in EPSG:4326."""
    grids = hierarchy()
    for code, shape in replaced.items():
        grids.loc[grids["code"] == code, "geometry"] = shape
    pyogrio.write_dataframe(grids.to_crs(4326), path)
    return path


def snapshot() -> list[tuple]:
    return list(Grid.objects.order_by("id").values_list("id", "code", "valid_to", "name"))


@pytest.mark.parametrize(
    ("kind", "extra", "crs"),
    [
        ("geojson", {}, "EPSG:4326"),
        ("shp", {}, "EPSG:4548"),
        ("zip", {}, "EPSG:4548"),
        ("noprj", {"srid": 4548}, "EPSG:4548"),
        ("gpkg", {"layer": "grids"}, "EPSG:3857"),
        ("kml", {}, "EPSG:4326"),
    ],
)
def test_each_good_format_imports_the_hierarchy(samples, kind, extra, crs):
    report = run(samples[kind], commit=True, **extra)
    assert report.ok, report.lines()
    assert report.committed and report.source_crs.startswith(crs)
    assert sorted(report.created) == ALL_CODES
    grids = {g.code: g for g in Grid.objects.current()}
    assert sorted(grids) == ALL_CODES
    micro = grids[WEST + "001"]
    assert micro.name == "西片区第一微网格"
    assert micro.parent.code == WEST and micro.level == 5
    assert micro.area_m2 == pytest.approx(1_000_000, rel=0.002)
    assert micro.boundary.geom_type == "MultiPolygon" and micro.boundary.srid == 4326
    # Placed where the CGCS2000 metres say: south-west corner about 117.80 E, 26.40 N.
    assert micro.boundary.extent[0] == pytest.approx(117.8018, abs=1e-4)


def test_a_dry_run_reports_and_writes_nothing(samples):
    report = run(samples["geojson"])
    assert report.ok and not report.committed
    assert len(report.created) == 9
    assert not Grid.objects.exists()
    assert "would import (dry run): 9 created" in report.lines()[-1]


def test_reimport_is_unchanged_and_a_changed_boundary_makes_a_new_version(samples, tmp_path):
    run(samples["geojson"], commit=True)
    again = run(samples["shp"], commit=True)  # the same grids from another CRS
    assert again.ok and sorted(again.unchanged) == ALL_CODES and not again.updated
    # Move the shared edge of the two west micro-grids 100 m north.
    path = write_variant(
        tmp_path / "moved.geojson",
        {
            WEST + "001": box_m(0, 1100, 1000, 900),
            WEST + "002": box_m(0, 0, 1000, 1100),
        },
    )
    old = Grid.objects.get(code=WEST + "001")
    report = run(path, commit=True)
    assert report.ok, report.lines()
    assert sorted(report.updated) == [WEST + "001", WEST + "002"]
    assert Grid.objects.get(pk=old.pk).valid_to is not None
    new = Grid.objects.current().get(code=WEST + "001")
    assert new.area_m2 == pytest.approx(900_000, rel=0.01)
    assert Grid.objects.filter(code=WEST + "001").count() == 2


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("self_intersecting", f"feature 8 (code {EAST}002): invalid geometry: Self-intersection["),
        ("unclosed_ring", f"feature 8 (code {EAST}002): a ring is not closed"),
        (
            "mixed_types",
            f"feature 7 (code {EAST}001): a boundary must be a Polygon or "
            "MultiPolygon, not a LineString",
        ),
        ("wrong_crs", "outside the area where EPSG:4548 is used"),
    ],
)
def test_bad_features_are_rejected_by_index_and_code_and_nothing_is_written(samples, kind, message):
    run(samples["geojson"], commit=True)  # the database already holds the hierarchy
    before = snapshot()
    report = run(samples[kind], commit=True)
    assert not report.ok and not report.committed
    assert any(message in str(r) for r in report.rejected), [str(r) for r in report.rejected]
    assert snapshot() == before


def test_mixed_types_names_the_point_too(samples):
    report = run(samples["mixed_types"])
    assert [str(r) for r in report.rejected][-1].endswith("not a Point")
    assert "nothing imported" in report.lines()[-1]


def test_fix_invalid_refuses_a_repair_that_changes_the_area(samples):
    report = run(samples["self_intersecting"], fix_invalid=True, commit=True)
    (rejection,) = report.rejected
    assert "a repair would change its area by 100.0 % (more than 1 %)" in rejection.message
    assert rejection.field == "geometry" and rejection.key == EAST + "002"
    assert not Grid.objects.exists()


def test_fix_invalid_repairs_a_small_self_intersection(samples, tmp_path):
    # A tiny loop crossing the first edge: a self-intersection of a fraction of a m².
    loop = [(500, 0), (500.6, 0.6), (500.3, 0.6), (500.9, 0)]
    ring = [(0, 0), *loop, (1000, 0), (1000, 1000), (0, 1000)]
    x0, y0 = ORIGIN_E + 1000, ORIGIN_N
    spike = shapely.Polygon([(x0 + x, y0 + y) for x, y in ring])
    path = write_variant(tmp_path / "spike.geojson", {EAST + "002": spike})
    assert "Self-intersection" in run(path).rejected[0].message
    report = run(path, fix_invalid=True, commit=True)
    assert report.ok, report.lines()
    (repair,) = report.repaired
    assert repair.code == EAST + "002" and repair.area_change_percent < 1
    assert "repaired, area changed by" in "\n".join(report.lines())


def failure(report) -> str:
    """The failed report's reason; a refused file writes nothing and says so last."""
    assert not report.ok and not report.committed
    assert "nothing imported" in report.lines()[-1]
    assert report.lines()[0] == report.failure
    return report.failure


def test_shapefile_without_prj_needs_srid(samples):
    assert re.search(r"grids\.shp has no \.prj file.*pass --srid", failure(run(samples["noprj"])))


def test_srid_contradicting_the_file_is_refused(samples):
    message = failure(run(samples["shp"], srid=4326))
    assert re.search(r"says its coordinates are in EPSG:4548.*--srid", message)


def test_gbk_attributes_need_the_encoding(samples):
    message = failure(run(samples["gbk"]))
    assert re.search(r"looks like GBK text.*pass --encoding gbk", message)
    report = run(samples["gbk"], encoding="gbk", commit=True)
    assert report.ok, report.lines()
    assert Grid.objects.get(code="350427").name == "沙县区"


def test_missing_fields_are_named_with_the_option_to_use(samples):
    message = failure(run(samples["missing_fields"]))
    assert "has no field 'name' (its fields are: code, level)" in message
    assert re.search(r"has no field 'gid'.*--code-field",
                     failure(run(samples["geojson"], code_field="gid")))


def test_corrupt_oversized_and_multi_layer_files(samples, settings):
    assert "cannot read corrupt.gpkg" in failure(run(samples["corrupt"]))
    assert re.search(r"several layers \((districts, grids|grids, districts)\)",
                     failure(run(samples["gpkg"])))
    settings.GEOGRID = {**settings.GEOGRID, "IMPORT_MAX_BYTES": 1000}
    assert "grids_4326.geojson is 0.0 MB, more than the" in failure(run(samples["geojson"]))


def test_missing_parent_and_bad_codes_are_rejected(samples, tmp_path):
    data = json.loads(samples["geojson"].read_text(encoding="utf-8"))
    data["features"] = data["features"][3:]  # no district, subdistrict, community
    data["features"][0]["properties"]["code"] = "35042700100"  # 11 digits: no level
    path = tmp_path / "orphans.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    rejected = {r.key: r for r in run(path).rejected}
    assert rejected["35042700100"].message.startswith("no level has 11-digit codes")
    assert rejected["35042700100"].field == "code"
    assert (
        rejected[EAST].message
        == "its parent grid 350427001001 is neither in the file nor in the database"
    )
    assert str(rejected[EAST]).startswith(f"feature 1 (code {EAST}): its parent grid")


def test_topology_problems_block_the_import(samples, tmp_path):
    data = json.loads(samples["geojson"].read_text(encoding="utf-8"))
    data["features"] = [f for f in data["features"] if f["properties"]["code"] != EAST + "002"]
    path = tmp_path / "gap.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = run(path, commit=True)
    assert not report.ok and not report.committed
    (gap,) = report.topology
    assert gap.code == EAST and gap.area_m2 == pytest.approx(1_000_000, rel=0.01)
    assert not Grid.objects.exists()
    allowed = run(path, commit=True, allow_gaps=True)
    assert allowed.ok and allowed.committed and len(allowed.warnings) == 1


def test_parent_by_location_with_local_numbers(samples, tmp_path):
    data = json.loads(samples["geojson"].read_text(encoding="utf-8"))
    upper = [f for f in data["features"] if len(f["properties"]["code"]) < 18]
    path = tmp_path / "upper.geojson"
    path.write_text(json.dumps({**data, "features": upper}), encoding="utf-8")
    assert run(path, commit=True, allow_gaps=True).ok
    micro = [f for f in data["features"] if len(f["properties"]["code"]) == 18]
    for f in micro:
        f["properties"]["code"] = str(int(f["properties"]["code"][-3:]))  # "1", "2"
    path = tmp_path / "micro.geojson"
    path.write_text(json.dumps({**data, "features": micro}), encoding="utf-8")
    report = run(path, level=5, parent_by_location=True, commit=True)
    assert report.ok, report.lines()
    assert sorted(report.created) == [WEST + "001", WEST + "002", EAST + "001", EAST + "002"]


def test_command_is_a_thin_wrapper(samples, tmp_path, capsys):
    out = tmp_path / "report.json"
    call_command("import_grids", str(samples["zip"]), "--report-json", str(out))
    assert "would import (dry run): 9 created" in capsys.readouterr().out
    assert json.loads(out.read_text())["ok"] is True
    with pytest.raises(CommandError, match="pass --srid"):
        call_command("import_grids", str(samples["noprj"]))
    with pytest.raises(CommandError, match="1 problem; nothing was written"):
        call_command("import_grids", str(samples["unclosed_ring"]), "--commit")
    assert "a ring is not closed" in capsys.readouterr().out
    assert not Grid.objects.exists()


def test_command_records_the_importing_user(samples, django_user_model):
    user = django_user_model.objects.create_user("gm")
    call_command("import_grids", str(samples["zip"]), "--commit", "--user", "gm")
    assert set(Grid.objects.values_list("changed_by", flat=True)) == {user.pk}
    with pytest.raises(CommandError, match="--user nobody: no active user has this name"):
        call_command("import_grids", str(samples["zip"]), "--user", "nobody")
