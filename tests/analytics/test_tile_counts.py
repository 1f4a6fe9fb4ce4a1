"""Every appeal tile path gives the counts of a direct count over layers_appeal: bins from the
cube, bins from the facts (day ranges, read day by day), points from the facts' level-24 cells,
and the appeals newer than the snapshot, for random filters and day ranges on a small fixture.
The tiles covering the fixture at a zoom hold, summed, exactly the matching located appeals.

Statuses are as of the last refresh (the documented staleness bound): a status change shows up
at the next refresh, a new appeal at once."""

from __future__ import annotations

import datetime as dt
import random

import mapbox_vector_tile
import pytest
from django.db.models import Q
from django.http import QueryDict

from layers.analytics.filters import AppealFilter, parse_filter
from layers.analytics.snapshot import refresh
from layers.analytics.tilemath import tiles_for_bbox
from layers.analytics.tiles import appeals_tile
from layers.appeals.models import Appeal
from tests.layers.factories import make_city

from .helpers import SHANGHAI, make_appeal

pytestmark = pytest.mark.django_db

A, B = "350427001001001001", "350427001001001002"
CATEGORIES = ("E0102", "L0101", "L0201")
STATUSES = ("received", "in_progress", "closed", "resolved")
CHANNELS = ("mobile", "hotline_12345", "patrol")
FIRST_DAY = dt.date(2026, 5, 1)
BBOX = (117.785, 26.385, 117.815, 26.415)


def _appeals(rng: random.Random, grids: dict, n: int) -> None:
    spots = [(117.793 + rng.random() * 0.015, 26.39 + rng.random() * 0.02) for _ in range(40)]
    for i in range(n):
        lon, lat = spots[i % len(spots)] if i % 3 == 0 else (
            117.79 + rng.random() * 0.02, 26.39 + rng.random() * 0.02)
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(70))
        # Hours at the local day's edges too: a day range is of local (Asia/Shanghai) dates.
        hour = rng.choice((0, 7, 12, 23))
        make_appeal(lon, lat, category=rng.choice(CATEGORIES), status=rng.choice(STATUSES),
                    channel=rng.choice(CHANNELS), grid=grids[rng.choice((A, B))],
                    reported_at=dt.datetime.combine(day, dt.time(hour, rng.randrange(60)),
                                                    tzinfo=SHANGHAI),
                    located=i % 17 != 5)


@pytest.fixture
def fixture():
    rng = random.Random(16)
    grids = make_city(with_staff=False)
    _appeals(rng, grids, 160)
    refresh()
    _appeals(rng, grids, 25)  # newer than the snapshot: counted live
    return rng, grids


def sql_count(f: AppealFilter) -> int:
    """The reference: located appeals matching the filter, counted in layers_appeal."""
    qs = Appeal.objects.filter(location__isnull=False)
    if f.category_ids:
        qs = qs.filter(category_id__in=f.category_ids)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.channels:
        qs = qs.filter(channel__in=f.channels)
    if f.date_from:
        qs = qs.filter(reported_at__gte=dt.datetime.combine(f.date_from, dt.time(),
                                                            tzinfo=SHANGHAI))
    if f.date_to:
        qs = qs.filter(reported_at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1),
                                                           dt.time(), tzinfo=SHANGHAI))
    if f.prefixes is not None:
        scope = Q()
        for p in f.prefixes:
            scope |= Q(grid__code__startswith=p) | Q(grid__isnull=True,
                                                     district_code__startswith=p)
        qs = qs.filter(scope)
    return qs.count()


def tile_count(f: AppealFilter, z: int) -> int:
    """Sum of the feature counts of every tile covering the fixture at zoom z; a point in a
    tile's margin (drawn in two tiles) counts in the tile that holds it."""
    x0, y0, x1, y1 = tiles_for_bbox(BBOX, z)
    total = 0
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            layers = mapbox_vector_tile.decode(appeals_tile(z, x, y, f).data,
                                               default_options={"y_coord_down": True})
            for layer in layers.values():
                for feature in layer["features"]:
                    geometry = feature["geometry"]
                    if geometry["type"] == "Point":
                        px, py = geometry["coordinates"]
                        if not (0 <= px < 4096 and 0 <= py < 4096):
                            continue
                    total += feature["properties"]["count"]
    return total


def random_query(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.4:
        parts.append("category=" + ",".join(rng.sample(CATEGORIES, rng.randint(1, 2))))
    if rng.random() < 0.5:
        parts.append("status=" + rng.choice(("open", "closed", "received,resolved")))
    if rng.random() < 0.3:
        parts.append("channel=" + rng.choice(CHANNELS))
    if rng.random() < 0.6:
        start = FIRST_DAY + dt.timedelta(days=rng.randrange(-5, 70))
        parts.append(f"from={start}&to={start + dt.timedelta(days=rng.randrange(0, 45))}")
    if rng.random() < 0.25:
        parts.append("grid=" + rng.choice((A, B, "350427001", "350427")))
    return "&".join(parts)


FIXED = [
    "",
    "status=open",
    "from=2026-05-01&to=2026-05-31",  # whole month: the cube
    "from=2026-05-01&to=2026-06-30&category=L0101",
    "from=2026-05-10&to=2026-06-08",  # 30 days: facts, day by day
    "from=2026-05-20&to=2026-05-20&status=closed",  # one day
    "status=open&from=2026-06-01&to=2026-06-30&channel=mobile",
    f"grid={A}&status=closed",
]


@pytest.mark.parametrize("z", [10, 13, 16])
def test_tile_counts_equal_a_direct_count_for_fixed_and_random_filters(fixture, z):
    rng = random.Random(z)
    queries = FIXED + [random_query(rng) for _ in range(12 if z < 16 else 6)]
    for query in queries:
        f = parse_filter(QueryDict(query))
        assert tile_count(f, z) == sql_count(f), query


def test_status_changes_show_at_the_next_refresh_and_new_appeals_at_once(fixture):
    _rng, grids = fixture
    f = parse_filter(QueryDict("status=open"))
    before = sql_count(f)
    assert tile_count(f, 13) == before
    closing = list(Appeal.objects.filter(status__in=f.statuses, location__isnull=False,
                                         id__lte=Appeal.objects.order_by("id")[150].id)[:5])
    Appeal.objects.filter(id__in=[a.id for a in closing]).update(status="closed")
    make_appeal(117.80, 26.40, grid=grids[A])
    # The snapshot still has the five as open; the new appeal counts at once.
    assert tile_count(f, 13) == before + 1 == sql_count(f) + 5
    assert tile_count(f, 16) == before + 1
    refresh()
    assert tile_count(f, 13) == sql_count(f) == before - 4
    assert tile_count(f, 16) == sql_count(f)
