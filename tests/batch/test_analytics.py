"""Hotspots and statistics as Dask jobs give the service's answers on the same data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from layers.analytics.filters import local_midnight
from layers.analytics.hotspots import HotspotParams, detect
from layers.appeals.stats import StatsQuery, grid_stats
from layers.batch.analytics import detect_batch, stats_batch
from layers.batch.reassign import run_job, start_job
from tests.batch.conftest import make_province

pytestmark = pytest.mark.django_db(transaction=True)


def _key(found) -> tuple:
    return (found.category_id, found.count, round(found.centroid.x, 9),
            round(found.centroid.y, 9), tuple(found.grid_codes), found.first_report,
            found.last_report, tuple(sorted(found.categories.items())))


def test_hotspots_and_stats_jobs_match_the_service(dask_client):
    make_province(20_000, months=3)
    job, parts = start_job()
    assert not run_job(job, parts).failed  # grids assigned: stats roll up by grid code
    with connection.cursor() as cursor:
        # Three categories, some appeals completed with handling times, some rated.
        cursor.execute(
            """UPDATE layers_appeal SET
                   category_id = (SELECT (array_agg(id ORDER BY code))[layers_appeal.id % 3 + 1]
                                    FROM layers_category),
                   status = CASE WHEN id % 4 = 0 THEN 'resolved' ELSE status END,
                   handling_minutes = CASE WHEN id % 4 = 0 THEN (id % 997) * 1.7 END,
                   satisfaction = CASE WHEN id % 5 = 0 THEN 'satisfied' ELSE '' END""")
    params = HotspotParams(date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31),
                           eps_m=40, min_points=8)
    service = detect(params)
    batch = detect_batch(params, dask_client)
    assert len({f.category_id for f in service}) == 3  # one task per category, all found
    assert sorted(map(_key, batch)) == sorted(map(_key, service))
    assert [f.count for f in batch] == sorted((f.count for f in service), reverse=True)

    now = timezone.now()
    since = local_midnight(dt.date(2026, 1, 15))  # mid-month: partial first month
    until = local_midnight(dt.date(2026, 3, 20))
    codes = ["980101", "980102", "980103", "98"]
    batch_stats = stats_batch(codes, since, until, now=now, client=dask_client)
    for code in codes:
        totals = grid_stats(StatsQuery(grid_code=code, since=since, until=until),
                            now=now)["totals"]
        assert totals["received"] > 0
        assert batch_stats[code] == totals, code
