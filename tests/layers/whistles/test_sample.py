"""The sample city's year of whistles (fixtures.load_whistles), loaded with the small city:
the figures reproduce what was loaded, every whistle keeps the rules the services keep (one
lead, the database's deferred check included), the watcher finds nothing to do right after
loading, and the appeals' timelines mirror their whistles."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from fixtures.load import LoadParams, load_city
from layers.appeals.models import AppealEvent
from layers.whistles import figures
from layers.whistles.models import Whistle, WhistleUnit
from layers.whistles.watcher import sweep

pytestmark = pytest.mark.django_db


def test_the_sample_year_of_whistles(small_city_dir: Path):
    report = load_city(LoadParams(directory=small_city_dir, progress=False, people=False,
                                  participation=False))
    loaded = report.whistles
    assert loaded["whistles"] == Whistle.objects.count() > 0
    assert loaded["units"] == WhistleUnit.objects.count()
    with connection.cursor() as cursor:  # the deferred one-lead check, as at commit
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    leads = Whistle.objects.annotate(n=Count("units", filter=Q(units__role="lead") & ~Q(
        units__status="replaced")))
    assert set(leads.values_list("n", flat=True)) == {1}
    states = set(Whistle.objects.values_list("status", flat=True))
    assert "closed" in states and states & {"blown", "working", "resolved"}
    now = timezone.now()
    for district in Whistle.objects.values_list("district_code", flat=True).distinct():
        f = figures.figures(district, now - dt.timedelta(days=800), now + dt.timedelta(days=1))
        assert f["whistles"] == Whistle.objects.filter(district_code=district).count()
        assert sum(d["called"] for d in f["departments"]) == WhistleUnit.objects.filter(
            whistle__district_code=district).count()
        assert sum(s["whistles"] for s in f["subdistricts"]) == f["whistles"]
    assert any(line.split()[:2] == ["whistles", str(loaded["whistles"])]
               for line in report.lines())
    after = sweep(now)  # loading marked what the watcher would have done by now
    assert (after.units_warned, after.units_late, after.whistles_warned,
            after.whistles_overdue) == ([], [], [], [])
    mirrored = AppealEvent.objects.filter(kind="whistle").values("appeal").distinct().count()
    assert mirrored == Whistle.objects.filter(appeal__isnull=False).count()
