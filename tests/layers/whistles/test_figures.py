"""Whistle figures: per department and per subdistrict, counted independently here."""

from __future__ import annotations

import datetime as dt

import pytest

from layers.whistles import figures, services
from layers.whistles.models import WhistleUnit
from tests.layers.whistles.factories import PLACE, SUB2, appeal_at, make_world

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 11, 2, 1, 0, tzinfo=dt.UTC)  # Monday 09:00 Shanghai


@pytest.fixture
def world():
    return make_world()


def test_department_figures(world):
    office = world.actor(world.office)
    # Whistle 1: CG reports in after 30 minutes, finishes, satisfied; ZJ refuses, is released.
    w1 = services.blow(office, reason="appeal", title="1", lead="CG", assists=["ZJ"],
                       lon=PLACE[0], lat=PLACE[1], at=START)
    cg1 = WhistleUnit.objects.get(whistle=w1, department__code="CG")
    zj1 = WhistleUnit.objects.get(whistle=w1, department__code="ZJ")
    services.report_in(cg1.pk, world.actor(world.members["CG"]), mode="remote",
                       at=START + dt.timedelta(minutes=30))
    services.refuse(zj1.pk, world.actor(world.members["ZJ"]), reason="不归我们",
                    at=START + dt.timedelta(minutes=40))
    services.release(zj1.pk, office, note="接受", at=START + dt.timedelta(minutes=50))
    services.finish(cg1.pk, world.actor(world.members["CG"]), result="ok",
                    at=START + dt.timedelta(hours=3))
    services.rate(cg1.pk, office, rating="satisfied", speed=5, quality=5,
                  at=START + dt.timedelta(hours=4))
    # Whistle 2: CG reports in after 90 minutes, finishes, rated unsatisfied (sent back).
    w2 = services.blow(office, reason="key_task", title="2", lead="CG", lon=PLACE[0],
                       lat=PLACE[1], at=START + dt.timedelta(days=1))
    cg2 = WhistleUnit.objects.get(whistle=w2)
    services.report_in(cg2.pk, world.actor(world.members["CG"]), mode="remote",
                       at=START + dt.timedelta(days=1, minutes=90))
    services.finish(cg2.pk, world.actor(world.members["CG"]), result="ok",
                    at=START + dt.timedelta(days=1, hours=2))
    services.rate(cg2.pk, office, rating="unsatisfied", speed=2, quality=2,
                  at=START + dt.timedelta(days=1, hours=3))
    rows = {r["department"]: r for r in figures.departments(
        "350427", START, START + dt.timedelta(days=30))}
    cg, zj = rows["CG"], rows["ZJ"]
    assert (cg["called"], cg["reported"], cg["on_time"], cg["done"]) == (2, 2, 2, 1)
    assert cg["mean_response_min"] == 60.0  # (30 + 90) / 2
    assert cg["report_rate"] == 1.0 and cg["completion_rate"] == 0.5
    assert cg["rated"] == 2 and cg["satisfaction_rate"] == 0.5
    assert (zj["called"], zj["reported"], zj["refused"], zj["released"]) == (1, 0, 1, 1)
    assert zj["report_rate"] == 0.0 and zj["completion_rate"] is None
    assert figures.departments("350427", START + dt.timedelta(days=5),
                               START + dt.timedelta(days=30)) == []


def test_subdistrict_rates_and_flags(world, settings):
    settings.GEOGRID = {**settings.GEOGRID,
                        "WHISTLES": {**settings.GEOGRID["WHISTLES"], "RATE_FLAG_FACTOR": 1.5}}
    for _ in range(4):
        appeal_at()  # four appeals in subdistrict 1 (micro-grid A)
    office = world.actor(world.office)
    now = dt.datetime.now(dt.UTC)
    for i in range(2):
        services.blow(office, reason="appeal", title=str(i), lead="CG", lon=PLACE[0],
                      lat=PLACE[1], at=now - dt.timedelta(hours=i + 1))
    period = (now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    rows = {r["subdistrict"]: r for r in figures.subdistricts("350427", *period)}
    assert rows["350427001"]["appeals"] == 4 and rows["350427001"]["whistles"] == 2
    assert rows["350427001"]["per_100_appeals"] == 50.0
    assert rows["350427002"]["per_100_appeals"] is None  # no appeals: no rate, no flag
    assert rows["350427002"]["flag"] is None
    assert rows["350427001"]["flag"] is None  # the only rate is the median
    # Subdistrict 2: one appeal, two whistles → 200 per 100; the median of 50 and 200 is 125.
    appeal_at(117.84, 26.40)
    for i in range(2):
        services.blow(world.actor(world.office2), reason="appeal", title=f"s2 {i}", lead="SW",
                      grid=SUB2, at=now - dt.timedelta(hours=i + 1))
    rows = {r["subdistrict"]: r for r in figures.subdistricts("350427", *period)}
    assert rows["350427002"]["per_100_appeals"] == 200.0
    assert (rows["350427001"]["flag"], rows["350427002"]["flag"]) == ("low", "high")
    whole = figures.figures("350427", *period)
    assert whole["whistles"] == 4 and whole["median_per_100_appeals"] == 125.0
