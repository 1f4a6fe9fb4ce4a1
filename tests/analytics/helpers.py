"""Appeals at known places on the layers test city (tests/layers/factories.make_city)."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.gis.geos import Point

from layers.appeals.models import Appeal, Category
from tests.layers.factories import make_city

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
_seq = itertools.count(1)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


def make_appeal(lon: float, lat: float, *, category: str = "E0102", status: str = "received",
                channel: str = "mobile", grid=None, reported_at: dt.datetime | None = None,
                located: bool = True) -> Appeal:
    n = next(_seq)
    return Appeal.objects.create(
        tracking=f"T{n:08d}",
        district_code="350427",
        location=Point(lon, lat, srid=4326) if located else None,
        category=Category.objects.get(code=category),
        channel=channel,
        status=status,
        grid=grid,
        assignment="covers" if grid else "unlocated",
        reported_at=reported_at or at("2026-05-10"),
    )


def city_with_appeals() -> dict:
    """The test city and 20 appeals: 12 in micro-grid A (west), 8 in B (north-east).

    A: 6 × E0102 received (mobile) in May, 4 × L0101 closed (hotline) in June,
       2 × E0102 closed (patrol) in May.   B: 8 × L0201 in_progress (mobile) in May.
    """
    grids = make_city(with_staff=False)
    a, b = grids["350427001001001001"], grids["350427001001001002"]
    for i in range(6):
        make_appeal(117.793 + i * 0.0005, 26.395, grid=a)
    for i in range(4):
        make_appeal(117.795, 26.40 + i * 0.001, category="L0101", status="closed",
                    channel="hotline_12345", grid=a, reported_at=at(f"2026-06-0{i + 1}"))
    for i in range(2):
        make_appeal(117.797, 26.392 + i * 0.001, status="closed", channel="patrol", grid=a)
    for i in range(8):
        make_appeal(117.803 + i * 0.0005, 26.405, category="L0201", status="in_progress",
                    grid=b)
    return grids
