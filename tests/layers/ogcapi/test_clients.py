"""Real clients against a live server: GDAL 3.6 (`ogr2ogr`, Debian's gdal-bin, OAPIF and GeoJSON
drivers) and OWSLib 0.35 (`owslib.ogcapi.features.Features`).

Live-server tests are transactional (the database is flushed after each), so the world is built
per test and the tests are few: each runs several clients against one world."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyogrio
import pytest

from tests.layers.factories import A, B, C
from tests.layers.ogcapi.world import YA, World, build, located

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="gdal-bin missing")]
CGCS = "http://www.opengis.net/def/crs/EPSG/0/4490"
PUBLIC = {"districts", "subdistricts", "communities", "zones", "micro-grids", "hotspots"}


@pytest.fixture
def served(live_server) -> tuple[World, str]:
    from layers.appeals.categories import load_categories

    load_categories()  # transactional tests flush what the data migration loaded
    return build(n_per_grid=30), live_server.url + "/ogcapi"


def gdal(*args: str, key: str | None = None) -> str:
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"}
    env.pop("GDAL_HTTP_HEADERS", None)
    if key:
        env["GDAL_HTTP_HEADERS"] = f"X-API-Key: {key}"
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def layers(path: Path) -> dict[str, int]:
    return {name: pyogrio.read_info(path, layer=name)["features"]
            for name, _geom in pyogrio.list_layers(path)}


def test_gdal_copies_every_collection_with_paging_bbox_filter_and_keys(served, tmp_path):
    w, url = served
    x_appeals = located(w, {A, B, C})
    # Anonymous: the public collections only.
    out = tmp_path / "public.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "-oo", "PAGE_SIZE=7")
    assert layers(out) == {"districts": 2, "subdistricts": 2, "communities": 2, "zones": 2,
                           "micro-grids": 4, "hotspots": 1}
    # A key of district X: every collection, appeals paged by `next` links (7 a page).
    out = tmp_path / "x.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "-oo", "PAGE_SIZE=7", key=w.keys["X"])
    got = layers(out)
    assert got["appeals"] == len(x_appeals) and got["buildings"] == 3
    frame = pyogrio.read_dataframe(out, layer="appeals")
    by_tracking = {a.tracking: a for a in x_appeals}
    assert set(frame["tracking"]) == set(by_tracking)
    for tracking, geom in zip(frame["tracking"], frame.geometry, strict=True):
        a = by_tracking[tracking]
        assert geom.x == pytest.approx(a.location.x, abs=1e-7)
        assert geom.y == pytest.approx(a.location.y, abs=1e-7)
    grids = pyogrio.read_dataframe(out, layer="micro-grids")
    assert set(grids["code"]) == {A, B, C, YA}
    area = {code: g.area for code, g in zip(grids["code"], grids.geometry, strict=True)}
    assert area[A] == pytest.approx(0.01 * 0.02, rel=1e-6)
    # bbox (-spat: GDAL sends bbox=) and a CQL2 filter (-where: GDAL 3.6 sends draft CQL text)
    out = tmp_path / "spat.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "appeals", "-spat", "117.79",
         "26.39", "117.80", "26.41", "-where", "status = 'closed'", "-oo", "PAGE_SIZE=5",
         key=w.keys["X"])
    want = [a for a in x_appeals if a.location.x <= 117.80 and a.status == "closed"]
    assert layers(out) == {"appeals": len(want)}
    # A key of district Y sees Y's appeals only.
    out = tmp_path / "y.gpkg"
    gdal("ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{url}", "appeals", key=w.keys["Y"])
    assert set(pyogrio.read_dataframe(out, layer="appeals")["grid_code"]) == {YA}


def test_gdal_reads_cgcs2000_latitude_first(served, tmp_path):
    """`crs=EPSG:4490` through GDAL's GeoJSON reader (GDAL 3.6's OAPIF driver asks for no CRS):
    the coordinates arrive latitude first, as EPSG:4490 orders them."""
    w, url = served
    out = tmp_path / "cgcs.gpkg"
    filter_ = "filter=status%3D%27closed%27"
    gdal("ogr2ogr", "-f", "GPKG", str(out), "-nln", "appeals",
         f"GeoJSON:{url}/collections/appeals/items?crs={CGCS}&limit=1000&{filter_}"
         f"&api_key={w.keys['X']}")
    frame = pyogrio.read_dataframe(out, layer="appeals")
    closed = {a.tracking: a for a in located(w, {A, B, C}) if a.status == "closed"}
    assert set(frame["tracking"]) == set(closed)
    for tracking, geom in zip(frame["tracking"], frame.geometry, strict=True):
        a = closed[tracking]
        assert (geom.x, geom.y) == pytest.approx((a.location.y, a.location.x), abs=1e-7)


def test_owslib_lists_collections_and_pages_by_offset(served):
    from owslib.ogcapi.features import Features

    w, url = served
    api = Features(url + "/")
    assert {c["id"] for c in api.collections()["collections"]} == PUBLIC
    assert "ogcapi-features-1/1.0/conf/core" in " ".join(api.conformance()["conformsTo"])
    seen: list[str] = []
    offset = 0
    while True:
        page = api.collection_items("micro-grids", limit=3, offset=offset)
        assert page["numberMatched"] == 4
        seen += [f["properties"]["code"] for f in page["features"]]
        if page["numberReturned"] < 3:
            break
        offset += 3
    assert sorted(seen) == sorted([A, B, C, YA])
    keyed = Features(url + "/", headers={"X-API-Key": w.keys["Y"]})
    items = keyed.collection_items("appeals", limit=100)
    assert {f["properties"]["grid_code"] for f in items["features"]} == {YA}
    assert keyed.collection_queryables("appeals")["properties"]["status"]["type"] == "string"
