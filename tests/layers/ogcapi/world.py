"""A small world for the OGC API tests: the layers test city (district X = 350427 with
micro-grids A, B, C) plus a second district Y, appeals on a lattice of points in A, B, C and
YA with known statuses, categories and times, buildings, one hotspot; a dispatcher of X, a
grid worker of A, a resident, and API keys (X only, Y only, X without permissions)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point, Polygon
from django.utils import timezone

from geogrid.apiclients import create_client
from geogrid.models import Grid, Post
from layers.analytics.models import Hotspot
from layers.appeals.models import Appeal, Category
from layers.buildings.models import Building
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import DISTRICT, A, B, C, box, make_city

Y = "350428"
Y_SUB, Y_COM = Y + "001", Y + "001001"
Y_ZONE = Y_COM + "001"
YA = Y_ZONE + "001"
STATUSES = ("received", "dispatched", "in_progress", "resolved", "closed")
CATEGORIES = ("E0102", "R0102")
CHANNELS = ("mobile", "hotline_12345", "wechat")
T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


@dataclass
class World:
    grids: dict[str, Grid]
    appeals: list[Appeal] = field(default_factory=list)
    buildings: list[Building] = field(default_factory=list)
    users: dict = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    hotspot: Hotspot | None = None


def grid_of(lon: float, lat: float) -> str:
    if lon >= 117.84:
        return YA
    if lon < 117.80:
        return A
    return B if lat >= 26.40 else C


def build(n_per_grid: int = 12) -> World:
    grids = make_city(with_staff=False)
    grids[Y] = make_grid(Y, boundary=box(117.83, 26.38, 117.88, 26.42), name="区Y")
    grids[Y_SUB] = make_grid(Y_SUB, parent=grids[Y], boundary=box(117.83, 26.38, 117.88, 26.42))
    grids[Y_COM] = make_grid(Y_COM, parent=grids[Y_SUB],
                             boundary=box(117.835, 26.385, 117.875, 26.415))
    grids[Y_ZONE] = make_grid(Y_ZONE, parent=grids[Y_COM],
                              boundary=box(117.84, 26.39, 117.87, 26.41))
    grids[YA] = make_grid(YA, parent=grids[Y_ZONE], boundary=box(117.84, 26.39, 117.85, 26.41))
    w = World(grids=grids)
    cats = {c.code: c for c in Category.objects.filter(code__in=CATEGORIES)}
    corners = {A: (117.791, 26.391), B: (117.801, 26.401), C: (117.801, 26.391),
                YA: (117.841, 26.391)}
    rows = []
    for code, (x0, y0) in corners.items():
        for i in range(n_per_grid):
            lon, lat = x0 + 0.0007 * (i % 6), y0 + 0.004 * (i // 6)
            k = next(_numbers)
            rows.append(Appeal(
                tracking=f"OGC-{k:06d}", district_code=code[:6], location=Point(lon, lat),
                category=cats[CATEGORIES[i % 2]], channel=CHANNELS[i % 3],
                status=STATUSES[i % len(STATUSES)], grid=grids[code], assignment="covers",
                reported_at=T0 + dt.timedelta(days=i), supporters=i,
                resolved_at=T0 + dt.timedelta(days=i, hours=5) if i % 5 >= 3 else None,
                description=f"private words {k}", contact_phone="13900000000"))
    w.appeals = Appeal.objects.bulk_create(rows)
    Appeal.objects.create(  # no location: not a feature
        tracking="OGC-NOWHERE", district_code=DISTRICT, category=cats["E0102"], channel="mobile",
        status="received", assignment="unlocated", reported_at=T0)
    w.buildings = Building.objects.bulk_create([
        Building(source_id=f"ogc-b{i}", address=f"凤岗路{i}号", estate_or_road="凤岗路",
                 building_no=str(i), households=10 + i, location=Point(lon, lat),
                 grid=grids[grid_of(lon, lat)])
        for i, (lon, lat) in enumerate([(117.795, 26.395), (117.805, 26.405),
                                        (117.805, 26.395), (117.845, 26.395)])])
    hull = Polygon(((117.791, 26.391), (117.795, 26.391), (117.795, 26.395), (117.791, 26.391)),
                   srid=4326)
    w.hotspot = Hotspot.objects.create(
        category=cats["E0102"], categories={"E0102": 9}, centroid=hull.centroid, hull=hull,
        count=9, grid_codes=[A], first_report=T0, last_report=T0 + dt.timedelta(days=20),
        period_from=T0.date(), period_to=(T0 + dt.timedelta(days=30)).date(), eps_m=50,
        min_points=8)
    u = w.users
    u["dispatcher_X"] = make_user("dispatcher", username=f"ogc-disp-{next(_numbers)}")
    assign(u["dispatcher_X"], grids[DISTRICT], Post.DISPATCHER)
    u["worker_A"] = make_user("grid_worker", username=f"ogc-worker-{next(_numbers)}")
    assign(u["worker_A"], grids[A], Post.GRID_WORKER)
    u["resident"] = make_user("resident", username=f"ogc-res-{next(_numbers)}")
    u["superuser"] = make_user(username=f"ogc-root-{next(_numbers)}", is_superuser=True)
    for name, perms, scopes in (
            ("X", ["read_appeals", "read_buildings"], [DISTRICT]),
            ("Y", ["read_appeals", "read_buildings"], [Y]),
            ("none", ["submit"], [DISTRICT])):
        _client, raw = create_client(f"ogc test {name} {next(_numbers)}", permissions=perms,
                                     scopes=scopes)
        w.keys[name] = raw
    return w


def located(w: World, codes: set[str]) -> list[Appeal]:
    return [a for a in w.appeals if a.grid is not None and a.grid.code in codes]


def now() -> dt.datetime:
    return timezone.now()
