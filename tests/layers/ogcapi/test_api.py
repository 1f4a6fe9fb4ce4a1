"""The OGC API through Django's test client: documents, parameters, CRS and axis order, errors,
scope, keyset paging (layers/ogcapi)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.db import connection
from django.test import Client

from layers.ogcapi import params
from tests.layers.factories import A, B, C
from tests.layers.ogcapi.world import YA, World, located

pytestmark = pytest.mark.django_db
BASE = "/ogcapi"
CGCS = "http://www.opengis.net/def/crs/EPSG/0/4490"
WGS = "http://www.opengis.net/def/crs/EPSG/0/4326"
MERC = "http://www.opengis.net/def/crs/EPSG/0/3857"


ANONYMOUS = Client()  # one client: building a handler loads every middleware


def get(url: str, client: Client | None = None, **headers: str):
    return (client or ANONYMOUS).get(BASE + url, **headers)


def as_user(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def key(w: World, name: str) -> dict[str, str]:
    return {"HTTP_X_API_KEY": w.keys[name]}


def ids(response) -> set[int]:
    return {f["id"] for f in response.json()["features"]}


def walk(url: str, **headers: str) -> list[dict]:
    """Every page by following `next` links; returns the pages' bodies."""
    pages, client = [], ANONYMOUS
    while url:
        r = client.get(url, **headers)
        assert r.status_code == 200, r.content
        body = r.json()
        pages.append(body)
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return pages


# --- documents -----------------------------------------------------------------------------
def test_landing_page_links_and_json_by_default(world):
    for headers in ({}, {"HTTP_ACCEPT": "*/*"}, {"HTTP_ACCEPT": "text/html"}):
        r = get("/", **headers)
        assert r.status_code == 200 and r["Content-Type"] == "application/json"
    rels = {link["rel"]: link for link in get("/?f=json").json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert get("/?f=xml").status_code == 400
    assert get("/api.html").status_code == 200


def test_conformance_and_openapi(world):
    conf = get("/conformance").json()["conformsTo"]
    for part in ("ogcapi-features-1/1.0/conf/core", "ogcapi-features-1/1.0/conf/geojson",
                 "ogcapi-features-1/1.0/conf/oas30", "ogcapi-features-2/1.0/conf/crs",
                 "ogcapi-features-3/1.0/conf/filter", "ogcapi-features-3/1.0/conf/features-filter",
                 "cql2/1.0/conf/basic-cql2", "cql2/1.0/conf/cql2-text"):
        assert any(c.endswith(part) for c in conf), part
    r = get("/api")
    assert r["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == params.MAX_LIMIT
    assert "/collections/appeals/items" in doc["paths"]


def test_collections_hide_what_the_reader_may_not_read(world):
    public = {"districts", "subdistricts", "communities", "zones", "micro-grids", "hotspots"}
    assert {c["id"] for c in get("/collections").json()["collections"]} == public
    everything = public | {"appeals", "buildings"}
    assert {c["id"] for c in get("/collections", **key(world, "X")).json()["collections"]} == (
        everything)
    assert {c["id"] for c in get("/collections", **key(world, "none")).json()[
        "collections"]} == public
    signed_in = as_user(world.users["resident"])
    assert {c["id"] for c in get("/collections", signed_in).json()["collections"]} == everything
    micro = get("/collections/micro-grids").json()
    assert micro["extent"]["spatial"]["bbox"][0][0] < 117.79
    assert {link["rel"] for link in micro["links"]} >= {"self", "items"}
    assert CGCS in micro["crs"]


def test_queryables_are_a_json_schema(world):
    r = get("/collections/appeals/queryables", **key(world, "X"))
    assert r.status_code == 200 and r["Content-Type"] == "application/schema+json"
    props = r.json()["properties"]
    assert {"status", "category", "reported_at", "geometry", "grid_code"} <= set(props)
    assert not {"description", "contact_phone", "reporter", "address"} & set(props)
    assert props["reported_at"]["format"] == "date-time"


# --- items and parameters ------------------------------------------------------------------
def test_grid_features_have_string_codes_and_a_parent(world):
    r = get("/collections/micro-grids/items?limit=100")
    assert r.status_code == 200 and r["Content-Type"] == "application/geo+json"
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"] == 4  # A, B, C, YA
    by_code = {f["properties"]["code"]: f for f in body["features"]}
    assert set(by_code) == {A, B, C, YA}
    assert by_code[A]["properties"]["parent_code"] == A[:-3]
    assert by_code[A]["geometry"]["type"] == "MultiPolygon"


def test_limit(world):
    assert get("/collections/micro-grids/items?limit=-1").status_code == 400
    assert get("/collections/micro-grids/items?limit=0").status_code == 400
    bad = get("/collections/micro-grids/items?limit=ten")
    assert bad.status_code == 400 and "limit" in bad.json()["fields"]
    assert get("/collections/micro-grids/items?limit=1.5").status_code == 400
    r = get("/collections/micro-grids/items?limit=100000")
    assert r.status_code == 200 and r.json()["numberReturned"] == 4
    assert len(get("/collections/micro-grids/items").json()["features"]) == 4  # default 10


@pytest.mark.parametrize("bbox", ["117.81,26.38,117.79,26.42", "117.79,26.42,117.81,26.38",
                                  "1,2,3", "a,b,c,d", "nan,1,2,3", "inf,1,2,3",
                                  "-200,0,10,10", "0,-95,10,10"])
def test_bad_bbox_is_a_400(world, bbox):
    r = get(f"/collections/micro-grids/items?bbox={bbox}")
    assert r.status_code == 400 and "bbox" in r.json()["fields"], r.content


def test_bbox_in_each_crs(world):
    want = {A}
    url = "/collections/micro-grids/items?bbox="
    assert codes(get(url + "117.791,26.391,117.795,26.395")) == want
    # EPSG:4326 / 4490 bboxes are lat/lon
    assert codes(get(url + f"26.391,117.791,26.395,117.795&bbox-crs={WGS}")) == want
    assert codes(get(url + f"26.391,117.791,26.395,117.795&bbox-crs={CGCS}")) == want
    assert codes(get(url + f"13112300,3050000,13112700,3050300&bbox-crs={MERC}")) <= {A, B, C}
    assert get(url + "1,2,3,4&bbox-crs=EPSG:9999").status_code == 400


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {f["properties"]["code"] for f in response.json()["features"]}


def test_axis_order_and_content_crs_per_crs(world):
    url = f"/collections/micro-grids/items?filter=code='{A}'"
    plain = get(url)
    assert plain["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = plain.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 117 < lon < 118 and 26 < lat < 27
    for crs in (WGS, CGCS):
        r = get(f"{url}&crs={crs}")
        assert r["Content-Crs"] == f"<{crs}>"
        first = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
        assert first == pytest.approx([lat, lon], abs=1e-7)
    r = get(f"{url}&crs={MERC}")
    x, y = r.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert x == pytest.approx(lon * 20037508.34 / 180, rel=1e-6) and 3.0e6 < y < 3.1e6
    # the short name means the same CRS, with its own axis order
    assert get(f"{url}&crs=EPSG:4490").json()["features"][0]["geometry"]["coordinates"][0][0][
        0] == pytest.approx([lat, lon], abs=1e-7)
    one = get(f"/collections/micro-grids/items/{world.grids[A].pk}?crs={CGCS}")
    assert one["Content-Crs"] == f"<{CGCS}>"
    assert one.json()["geometry"]["coordinates"][0][0][0] == pytest.approx([lat, lon], abs=1e-7)


def test_unknown_crs_is_a_400(world):
    for param in ("crs", "bbox-crs", "filter-crs"):
        r = get(f"/collections/micro-grids/items?{param}=http://www.opengis.net/def/crs/EPSG/0/2000")
        assert r.status_code == 400 and param in r.json()["fields"]


def test_datetime(world):
    h = key(world, "X")
    url = "/collections/appeals/items?limit=1000&datetime="
    in_x = located(world, {A, B, C})

    def count(value: str) -> int:
        r = get(url + value, **h)
        assert r.status_code == 200, r.content
        return r.json()["numberMatched"]

    assert count("2026-03-01T08:00:00Z") == sum(a.reported_at.day == 1 for a in in_x)
    assert count("2026-03-03T00:00:00Z/2026-03-05T23:59:59Z") == sum(
        3 <= a.reported_at.day <= 5 and a.reported_at.month == 3 for a in in_x)
    assert count("2026-03-10T00:00:00Z/..") == sum(a.reported_at.day >= 10 for a in in_x)
    assert count("../2026-03-02T12:00:00Z") == sum(a.reported_at.day <= 2 for a in in_x)
    for bad in ("yesterday", "2026-13-01", "2026-03-05/2026-03-01", "..", "a/b/c"):
        r = get(url + bad, **h)
        assert r.status_code == 400 and "datetime" in r.json()["fields"], bad


def test_bad_filter_is_a_400_naming_filter(world):
    for bad in ("status = ", "nope = 1", "status = 1", "code = 350427", "level = 'x'",
                "S_INTERSECTS(geometry, POLYGON((1 2, 3 4)))", "CASEI(name) = 'a'",
                "(" * 60 + "level = 5" + ")" * 60, "name = 'x' " * 1000):
        r = get(f"/collections/micro-grids/items?filter={bad}")
        assert r.status_code == 400, (bad, r.content)
        assert "filter" in r.json()["fields"], bad
    r = get("/collections/micro-grids/items?filter=level=5&filter-lang=sql")
    assert r.status_code == 400 and "filter-lang" in r.json()["fields"]


def test_feature_ids(world):
    grid = world.grids[A]
    r = get(f"/collections/micro-grids/items/{grid.pk}")
    assert r.status_code == 200 and r.json()["properties"]["code"] == A
    assert {link["rel"] for link in r.json()["links"]} == {"self", "collection"}
    for bad in ("abc", "1.5", "-1", "99999999999999999999999", "%20", "١٢"):
        r = get(f"/collections/micro-grids/items/{bad}")
        assert r.status_code == 404 and r.json()["code"] == "not_found", bad
    assert get(f"/collections/districts/items/{grid.pk}").status_code == 404  # another level
    assert get("/collections/nope/items").status_code == 404
    assert get("/collections/nope/items/1").status_code == 404
    assert get("/nowhere").json()["code"] == "not_found"


def test_other_methods_are_a_405(world):
    r = Client().post(BASE + "/collections/micro-grids/items", {})
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


# --- who sees what ---------------------------------------------------------------------------
def test_anonymous_gets_no_appeals_or_buildings(world):
    for cid in ("appeals", "buildings"):
        for suffix in ("", "/items", "/queryables", f"/items/{world.appeals[0].pk}"):
            r = get(f"/collections/{cid}{suffix}")
            assert r.status_code == 403 and r.json()["code"] == "not_authenticated"


def test_a_key_sees_its_scope_only(world):
    x = get("/collections/appeals/items?limit=1000", **key(world, "X"))
    assert ids(x) == {a.pk for a in located(world, {A, B, C})}
    y = get("/collections/appeals/items?limit=1000", **key(world, "Y"))
    assert ids(y) == {a.pk for a in located(world, {YA})}
    other = located(world, {YA})[0]
    assert get(f"/collections/appeals/items/{other.pk}", **key(world, "X")).status_code == 404
    assert get(f"/collections/appeals/items/{other.pk}", **key(world, "Y")).status_code == 200
    assert get("/collections/appeals/items", **key(world, "none")).status_code == 403
    bad = get("/collections/micro-grids/items", HTTP_X_API_KEY="gg_0000000000_" + "x" * 43)
    assert bad.status_code == 403
    by_param = get(f"/collections/buildings/items?api_key={world.keys['Y']}")
    assert [f["properties"]["grid_code"] for f in by_param.json()["features"]] == [YA]


def test_a_person_sees_the_appeals_of_their_posts(world):
    disp = get("/collections/appeals/items?limit=1000", as_user(world.users["dispatcher_X"]))
    assert ids(disp) == {a.pk for a in located(world, {A, B, C})}
    worker = get("/collections/appeals/items?limit=1000", as_user(world.users["worker_A"]))
    assert ids(worker) == {a.pk for a in located(world, {A})}
    resident = get("/collections/appeals/items", as_user(world.users["resident"]))
    assert resident.status_code == 200 and resident.json()["numberMatched"] == 0
    root = get("/collections/appeals/items?limit=1000", as_user(world.users["superuser"]))
    assert ids(root) == {a.pk for a in world.appeals}
    b = get("/collections/buildings/items", as_user(world.users["worker_A"]))
    assert [f["properties"]["grid_code"] for f in b.json()["features"]] == [A]


def test_appeals_carry_no_personal_data(world):
    r = get("/collections/appeals/items?limit=1000", **key(world, "X"))
    text = r.content.decode()
    assert "13900000000" not in text and "private words" not in text
    props = r.json()["features"][0]["properties"]
    assert not {"description", "contact_phone", "reporter", "address"} & set(props)
    assert isinstance(props["grid_code"], str)


def test_hotspots_are_public(world):
    r = get("/collections/hotspots/items")
    assert r.status_code == 200 and r.json()["features"][0]["properties"]["count"] == 9
    assert r.json()["features"][0]["geometry"]["type"] == "Polygon"


# --- paging ----------------------------------------------------------------------------------
def test_keyset_paging_gives_every_feature_once(world):
    h = key(world, "X")
    pages = walk(BASE + "/collections/appeals/items?limit=5", **h)
    seen = [f["id"] for p in pages for f in p["features"]]
    want = sorted(a.pk for a in located(world, {A, B, C}))
    assert seen == want  # each exactly once, in id order
    assert all(p["numberMatched"] == len(want) for p in pages)
    assert [p["numberReturned"] for p in pages] == [5] * (len(want) // 5) + (
        [len(want) % 5] if len(want) % 5 else [])
    nexts = [link["href"] for p in pages for link in p["links"] if link["rel"] == "next"]
    assert nexts and all("cursor=" in u and "offset=" not in u for u in nexts)
    assert all(parse_qs(urlsplit(u).query)["limit"] == ["5"] for u in nexts)


def test_paging_keeps_the_filter_and_prev_goes_back(world):
    h = key(world, "X")
    url = BASE + "/collections/appeals/items?limit=4&filter=status IN ('received','closed')"
    pages = walk(url, **h)
    seen = [f["id"] for p in pages for f in p["features"]]
    want = sorted(a.pk for a in located(world, {A, B, C}) if a.status in ("received", "closed"))
    assert seen == want
    second = pages[1]
    prev = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    back = ANONYMOUS.get(prev, **h).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in pages[0]["features"]]
    assert not any(link["rel"] == "prev" for link in back["links"])


def test_offset_pages_then_a_cursor(world):
    h = key(world, "X")
    want = sorted(a.pk for a in located(world, {A, B, C}))
    r = get("/collections/appeals/items?limit=5&offset=7", **h).json()
    assert [f["id"] for f in r["features"]] == want[7:12]
    nxt = next(link["href"] for link in r["links"] if link["rel"] == "next")
    assert "offset" not in nxt and f"cursor={want[11]}" in nxt
    assert get("/collections/appeals/items?offset=-1", **h).status_code == 400
    assert get("/collections/appeals/items?offset=1&cursor=3", **h).status_code == 400
    assert get("/collections/appeals/items?cursor=x", **h).status_code == 400


def test_a_deep_cursor_page_is_an_index_range_scan(world):
    """The SQL of a cursor page: `id > cursor … ORDER BY id LIMIT`, no OFFSET."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        get(f"/collections/appeals/items?limit=5&cursor={world.appeals[3].pk}",
            **key(world, "X"))
    page_sql = [q["sql"] for q in queries.captured_queries if "json_build_object" in q["sql"]]
    assert len(page_sql) == 1
    assert "OFFSET" not in page_sql[0].upper() and "LIMIT 6" in page_sql[0]
    assert f'"layers_appeal"."id" > {world.appeals[3].pk}' in page_sql[0]


def test_features_json_is_valid_geojson(world):
    r = get("/collections/appeals/items?limit=3", **key(world, "X"))
    body = json.loads(r.content)
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
    for f in body["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        assert isinstance(f["properties"]["reported_at"], str)



def test_a_next_link_carries_the_count_signed_for_its_question(world):
    """The first page counts; the pages reached by `next` report that count without counting
    again, and a `matched` that was tampered with or belongs to another question is ignored."""
    from urllib.parse import parse_qs, urlsplit

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = get("/collections/micro-grids/items?limit=1").json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    query = parse_qs(urlsplit(nxt).query)
    path = "/collections/micro-grids/items?limit=1&cursor=" + query["cursor"][0]
    with CaptureQueriesContext(connection) as seen:
        second = get(path + "&matched=" + quote(query["matched"][0])).json()
    assert second["numberMatched"] == first["numberMatched"] == 4
    assert not any("COUNT(" in q["sql"].upper() for q in seen.captured_queries)
    question, _count, signature = query["matched"][0].split(":")
    forged = quote(f"{question}:999:{signature}")
    assert get(f"{path}&matched={forged}").json()["numberMatched"] == 4
    # The same signed count on another question (a filter added) is not believed.
    other = get(f"{path}&matched={quote(query['matched'][0])}&code=nonexistent").json()
    assert other["numberMatched"] == 0
