"""CQL2 filters (layers/ogcapi/cql.py): each operator against a count computed here, in Python,
from the world's own rows — not through the translator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import quote

import pytest
from django.test import Client

from layers.ogcapi.cql import like_to_regex
from tests.layers.factories import A, B, C
from tests.layers.ogcapi.world import T0, Appeal, World, located

pytestmark = pytest.mark.django_db
CLIENT = Client()


def matched(w: World, text: str, **extra: str) -> set[int]:
    query = "&".join(f"{k.replace('_', '-')}={quote(v)}" for k, v in extra.items())
    r = CLIENT.get(f"/ogcapi/collections/appeals/items?limit=1000&filter={quote(text)}&{query}",
                   HTTP_X_API_KEY=w.keys["X"])
    assert r.status_code == 200, (text, r.content)
    body = r.json()
    assert body["numberMatched"] == len(body["features"])
    return {f["id"] for f in body["features"]}


def expect(w: World, test: Callable[[Appeal], bool]) -> set[int]:
    return {a.pk for a in located(w, {A, B, C}) if test(a)}


def lon(a: Appeal) -> float:
    return a.location.x


CASES: list[tuple[str, Callable[[Appeal], bool]]] = [
    ("status = 'closed'", lambda a: a.status == "closed"),
    ("'closed' = status", lambda a: a.status == "closed"),
    ("status <> 'closed'", lambda a: a.status != "closed"),
    ("supporters < 3", lambda a: a.supporters < 3),
    ("supporters <= 3", lambda a: a.supporters <= 3),
    ("supporters > 8", lambda a: a.supporters > 8),
    ("supporters >= 8", lambda a: a.supporters >= 8),
    ("3 < supporters", lambda a: a.supporters > 3),
    ("status = 'closed' AND category = 'E0102'",
     lambda a: a.status == "closed" and a.category.code == "E0102"),
    ("status = 'closed' OR channel = 'wechat'",
     lambda a: a.status == "closed" or a.channel == "wechat"),
    ("NOT (status = 'closed')", lambda a: a.status != "closed"),
    ("NOT status IN ('closed', 'received')", lambda a: a.status not in ("closed", "received")),
    ("status IN ('closed', 'received')", lambda a: a.status in ("closed", "received")),
    ("status NOT IN ('closed')", lambda a: a.status != "closed"),
    ("supporters BETWEEN 2 AND 5", lambda a: 2 <= a.supporters <= 5),
    ("supporters NOT BETWEEN 2 AND 5", lambda a: not 2 <= a.supporters <= 5),
    ("tracking LIKE 'OGC-0000_%'", lambda a: a.tracking.startswith("OGC-0000")),
    ("status LIKE 'in\\_%'", lambda a: a.status.startswith("in_")),
    ("status LIKE '%ed'", lambda a: a.status.endswith("ed")),
    ("status NOT LIKE '%ed'", lambda a: not a.status.endswith("ed")),
    ("grid_code = '" + A + "'", lambda a: a.grid.code == A),
    ("grid_code LIKE '" + A[:-1] + "%'", lambda a: a.grid.code.startswith(A[:-1])),
    ("resolved_at IS NULL", lambda a: a.resolved_at is None),
    ("resolved_at IS NOT NULL", lambda a: a.resolved_at is not None),
    ("S_INTERSECTS(geometry, BBOX(117.79, 26.39, 117.80, 26.41))", lambda a: lon(a) <= 117.80),
    ("S_INTERSECTS(geometry, POLYGON((117.79 26.39, 117.80 26.39, 117.80 26.41, 117.79 26.41, "
     "117.79 26.39)))", lambda a: lon(a) <= 117.80),
    ("S_WITHIN(geometry, BBOX(117.80, 26.40, 117.81, 26.41))",
     lambda a: lon(a) > 117.80 and a.location.y > 26.40),
    ("S_DISJOINT(geometry, BBOX(117.79, 26.39, 117.80, 26.41))", lambda a: lon(a) > 117.80),
    ("reported_at > TIMESTAMP('2026-03-05T08:00:00Z')",
     lambda a: a.reported_at > T0 + dt.timedelta(days=4)),
    ("reported_at >= DATE('2026-03-05')",
     lambda a: a.reported_at >= dt.datetime(2026, 3, 4, 16, tzinfo=dt.UTC)),
    ("T_BEFORE(reported_at, TIMESTAMP('2026-03-03T08:00:00Z'))",
     lambda a: a.reported_at < T0 + dt.timedelta(days=2)),
    ("T_AFTER(reported_at, TIMESTAMP('2026-03-03T08:00:00Z'))",
     lambda a: a.reported_at > T0 + dt.timedelta(days=2)),
    ("T_DURING(reported_at, INTERVAL('2026-03-03T00:00:00Z', '2026-03-06T00:00:00Z'))",
     lambda a: 2 <= (a.reported_at - T0).days <= 4),
    ("T_INTERSECTS(reported_at, INTERVAL('2026-03-08T00:00:00Z', '..'))",
     lambda a: a.reported_at >= dt.datetime(2026, 3, 8, tzinfo=dt.UTC)),
    ("T_EQUALS(reported_at, TIMESTAMP('2026-03-01T08:00:00Z'))", lambda a: a.reported_at == T0),
    ("reported_at BETWEEN TIMESTAMP('2026-03-02T00:00:00Z') AND TIMESTAMP('2026-03-04T00:00:00Z')",
     lambda a: 1 <= (a.reported_at - T0).days <= 2),
    ("on_time IS NULL", lambda a: a.resolved_at is None or a.due_at is None),
]


@pytest.mark.parametrize("text,test", CASES, ids=[c[0][:60] for c in CASES])
def test_operator(world, text, test):
    want = expect(world, test)
    assert matched(world, text) == want


def test_cql2_json_and_filter_crs(world):
    as_json = '{"op": "=", "args": [{"property": "status"}, "closed"]}'
    assert matched(world, as_json, filter_lang="cql2-json") == expect(
        world, lambda a: a.status == "closed")
    lat_lon = "S_INTERSECTS(geometry, BBOX(26.39, 117.79, 26.41, 117.80))"
    assert matched(world, lat_lon, filter_crs="http://www.opengis.net/def/crs/EPSG/0/4490") == (
        expect(world, lambda a: lon(a) <= 117.80))


def test_scope_still_applies_under_a_filter(world):
    everything = "status IS NOT NULL OR status IS NULL"
    assert matched(world, everything) == expect(world, lambda a: True)


def test_like_patterns():
    assert like_to_regex("a%b_c") == "^a.*b.c$"
    assert like_to_regex("100\\%") == "^100%$"
    assert like_to_regex("x.y") == "^x\\.y$"
