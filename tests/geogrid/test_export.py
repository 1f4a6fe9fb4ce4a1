"""Export a subtree and import it again: same codes, geometries within 1e-7°."""

from __future__ import annotations

import pyogrio
import pytest
from django.core.management import call_command
from django.utils import timezone

from geogrid.export import export_grids
from geogrid.models import Grid
from importers.grids import GridImportParams, import_grids
from tests.factories import make_tree

pytestmark = pytest.mark.django_db


def geometries() -> dict[str, object]:
    return {g.code: g.boundary for g in Grid.objects.current()}


@pytest.mark.parametrize("name", ["tree.gpkg", "tree.geojson", "tree.shp"])
def test_round_trip_gives_the_same_codes_and_geometries(tmp_path, name):
    make_tree()
    before = geometries()
    path = tmp_path / name
    assert export_grids(path, "350427") == len(before)
    if name.endswith(".shp"):
        assert path.with_suffix(".prj").exists()
        assert path.with_suffix(".cpg").read_text().strip() == "UTF-8"
    # Re-importing over the same grids changes nothing…
    report = import_grids(GridImportParams(path=path, commit=True))
    assert report.ok and sorted(report.unchanged) == sorted(before)
    # …and into an empty database recreates them.
    for level in range(5, 0, -1):
        Grid.objects.filter(level=level).delete()
    report = import_grids(GridImportParams(path=path, commit=True))
    assert report.ok, report.lines()
    after = geometries()
    assert sorted(after) == sorted(before)
    for code, boundary in before.items():
        # Shapefiles store outer rings clockwise: compare vertex by vertex after normalising.
        normalised = after[code].normalize(clone=True)
        assert normalised.equals_exact(boundary.normalize(clone=True), tolerance=1e-7), code


def test_subtree_and_as_of_select_the_versions(tmp_path):
    tree = make_tree()
    moment = timezone.now()
    Grid.objects.filter(pk=tree["350427002"].pk).update(valid_to=timezone.now())
    path = tmp_path / "west.geojson"
    call_command("export_grids", str(path), "350427001")
    frame = pyogrio.read_dataframe(path)
    assert sorted(frame["code"]) == sorted(c for c in tree if c.startswith("350427001"))
    assert set(frame["parent"]) >= {"350427", "350427001"}
    export_grids(path, "350427002")  # the closed subdistrict itself is not current
    assert "350427002" not in pyogrio.read_dataframe(path)["code"].tolist()
    export_grids(path, "350427002", as_of=moment)
    assert "350427002" in pyogrio.read_dataframe(path)["code"].tolist()
