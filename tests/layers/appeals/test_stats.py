"""Statistics of the small sample city equal a brute-force recount in Python, for grids of
every level and periods, in total and by category and channel — one SQL query per report; the
map layers' per-grid rates equal the statistics'."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

from fixtures.city import generate
from fixtures.load import LoadParams, load_city
from geogrid.models import Grid
from importers.appeals import AppealImportParams, import_appeals
from layers.analytics import heat
from layers.analytics.filters import parse_filter
from layers.analytics.snapshot import refresh
from layers.appeals.deadlines import BACKFILL_FIELDS, backfill
from layers.appeals.models import Appeal
from layers.appeals.stats import StatsQuery, grid_stats
from tests.layers.appeals.workflow_fixtures import at

pytestmark = pytest.mark.django_db

COMPLETED = {"resolved", "checked", "closed"}
NOT_ACCEPTED = {"received", "rejected", "merged"}


@pytest.fixture(scope="module")
def small_city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small-city-stats")
    generate("small", 1, out, progress=False)
    return out


def _load(directory: Path) -> None:
    load_city(LoadParams(directory=directory, appeals=False, progress=False))
    report = import_appeals(AppealImportParams(path=directory / "appeals.csv", commit=True))
    assert report.committed and not report.errors, report.errors[:3]
    # The sample's workflow history → the workflow columns (deadlines in working time), plus
    # redo/escalation/supporters spread deterministically.
    history = {}
    with (directory / "appeals.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            history[row["appeal_id"]] = row
    rng = random.Random(6)
    appeals = list(Appeal.objects.select_related("category"))
    for appeal in appeals:
        row = history[appeal.source_ref]
        appeal.accepted_at = parse_datetime(row["accepted_at"]) if row["accepted_at"] else None
        appeal.dispatched_at = (parse_datetime(row["dispatched_at"])
                                if row["dispatched_at"] else None)
        appeal.resolved_at = parse_datetime(row["resolved_at"]) if row["resolved_at"] else None
        appeal.satisfaction = "" if row["satisfaction"] in ("", "not_rated") else row[
            "satisfaction"]
        appeal.redo_count = 1 if rng.random() < 0.05 else 0
        appeal.escalation_level = rng.choice([0] * 18 + [1, 2])
        appeal.supporters = rng.choice([0] * 8 + [1, 3])
    backfill(appeals)
    Appeal.objects.bulk_update(
        appeals, ["accepted_at", "dispatched_at", "satisfaction", "redo_count",
                  "escalation_level", "supporters", *BACKFILL_FIELDS], batch_size=2000)


def brute_force(rows: list[dict], code: str, since, until, key: str | None, now) -> dict:
    groups: dict = {}
    for r in rows:
        if not (r["code"] or "").startswith(code):
            continue
        if (since and r["reported_at"] < since) or (until and r["reported_at"] >= until):
            continue
        for k in [None] + ([r[key]] if key else []):
            groups.setdefault(k, []).append(r)
    out = {}
    for k, items in groups.items():
        done = [r for r in items if r["status"] in COMPLETED]
        timed = [r for r in done if r["on_time"] is not None]
        hours = [r["handling_minutes"] / 60 for r in done if r["handling_minutes"] is not None]
        rated = [r for r in items if r["satisfaction"]]
        figures = {
            "received": len(items),
            "accepted": sum(1 for r in items if r["accepted_at"] or r["status"]
                            not in NOT_ACCEPTED),
            "completed": len(done),
            "closed": sum(1 for r in items if r["status"] == "closed"),
            "timed": len(timed),
            "on_time": sum(1 for r in timed if r["on_time"]),
            "overdue_open": sum(1 for r in items if r["status"] in ("dispatched", "in_progress")
                                and r["due_at"] and r["due_at"] < now),
            "rated": len(rated),
            "satisfied": sum(1 for r in rated if r["satisfaction"] != "unsatisfied"),
            "redone": sum(1 for r in done if r["redo_count"] > 0),
            "escalated": sum(1 for r in items if r["escalation_level"] > 0),
            "escalations": sum(r["escalation_level"] for r in items),
            "supporters": sum(r["supporters"] for r in items),
            "mean_handling_hours": round(float(np.mean(hours)), 2) if hours else None,
            "p90_handling_hours": round(float(np.percentile(hours, 90)), 2) if hours else None,
        }
        figures["completion_rate"] = round(len(done) / len(items), 4)
        figures["on_time_rate"] = round(figures["on_time"] / len(timed), 4) if timed else None
        figures["satisfaction_rate"] = (round(figures["satisfied"] / len(rated), 4)
                                        if rated else None)
        figures["redo_rate"] = round(figures["redone"] / len(done), 4) if done else None
        out[k] = figures
    return out


def test_statistics_equal_a_brute_force_recount(small_city, django_assert_num_queries):
    _load(small_city)
    now = at(2026, 11, 1, 12, 0)
    rows = [
        {**r, "code": r["grid__code"] or r["district_code"], "category": r["category__code"]}
        for r in Appeal.objects.values(
            "grid__code", "district_code", "category__code", "channel", "status", "reported_at",
            "accepted_at", "on_time", "handling_minutes", "satisfaction", "redo_count",
            "escalation_level", "supporters", "due_at")
    ]
    assert len(rows) >= 1000
    assert {r["status"] for r in rows} >= {"received", "in_progress", "checked", "closed"}
    assert sum(1 for r in rows if r["on_time"] is False) > 0  # some late, some on time
    grids = Grid.objects.current()
    codes = [grids.get(level=1).code]
    codes += list(grids.filter(level=2).values_list("code", flat=True)[:2])
    codes += list(grids.filter(level=3).values_list("code", flat=True)[:2])
    codes += list(grids.filter(level=5).values_list("code", flat=True)[:1])
    periods = [(None, None), (at(2026, 1, 1), at(2026, 7, 1))]
    checked = 0
    for code in codes:
        for since, until in periods:
            for by in (None, "category", "channel"):
                with django_assert_num_queries(1):
                    result = grid_stats(StatsQuery(code, since, until, by), now=now)
                expected = brute_force(rows, code, since, until, by, now)
                _compare(result["totals"], expected.get(None), (code, since, by))
                got_rows = {r["key"]: r for r in result["rows"]}
                assert set(got_rows) == set(expected) - {None}, (code, by)
                for key, row in got_rows.items():
                    _compare(row, expected[key], (code, since, by, key))
                checked += 1
    assert checked == len(codes) * 6


def _compare(got: dict, want: dict | None, where) -> None:
    if want is None:
        assert got["received"] == 0, where
        return
    for name, value in want.items():
        if value is None or isinstance(value, int):
            assert got[name] == value, (where, name)
        else:
            assert got[name] == pytest.approx(value, abs=0.011), (where, name)


def test_map_layer_rates_agree_with_the_statistics(small_city):
    """The per-grid figures of the map layers (/api/v1/heat/grids, the choropleths and map
    reports) use the statistics' definitions (layers.appeals.rates): for the same grid, period
    and category they are the same numbers — counted live, and from the facts after a
    refresh."""
    _load(small_city)
    assert Appeal.objects.filter(grid__isnull=True).exists()  # they count for the district
    period = QueryDict("from=2026-01-01&to=2026-06-30")
    since, until = at(2026, 1, 1), at(2026, 7, 1)
    category = Appeal.objects.values_list("category__code", flat=True).order_by("id").first()
    compared = 0
    for refreshed in (False, True):
        if refreshed:
            refresh()
        for level in range(1, 6):
            rows = [r for r in heat.grid_stats(parse_filter(period), level) if r["appeals"]]
            assert rows, level
            for row in rows[:2]:
                totals = grid_stats(StatsQuery(row["code"], since, until))["totals"]
                _agree(row, totals, (refreshed, row["code"]))
                by = grid_stats(StatsQuery(row["code"], since, until, "category"))["rows"]
                want = next((r for r in by if r["key"] == category), None)
                narrowed = parse_filter(QueryDict(f"{period.urlencode()}&category={category}"))
                got = {r["code"]: r for r in heat.grid_stats(narrowed, level)}[row["code"]]
                if want is None:
                    assert got["appeals"] == 0
                else:
                    _agree(got, want, (refreshed, row["code"], category))
                compared += 1
    assert compared >= 2 * 5  # every level, live and refreshed


def _agree(layer: dict, stats: dict, where) -> None:
    assert layer["appeals"] == stats["received"], where
    for name in ("completed", "closed", "completion_rate", "on_time_rate"):
        assert layer[name] == stats[name], (where, name)


def test_stats_api_needs_the_grid_in_scope(client):
    from tests.layers.appeals.workflow_fixtures import SUB, build_city

    city = build_city()
    client.force_login(city.users["sub_dispatcher"])
    body = client.get("/api/v1/stats/", {"grid": SUB, "by": "category",
                                         "since": "2026-01-01"}).json()
    assert body["grid"]["code"] == SUB and body["totals"]["received"] == 0
    assert body["since"].startswith("2026-01-01")
    assert client.get("/api/v1/stats/", {"grid": "350427"}).status_code == 403
    assert client.get("/api/v1/stats/", {"grid": SUB, "by": "colour"}).status_code == 400
    assert client.get("/api/v1/stats/").json()["grid"]["code"] == SUB  # default: own grid
    client.force_login(city.users["resident"])
    r = client.get("/api/v1/stats/")  # no posts, so no default grid
    assert r.status_code == 400 and list(r.json()["fields"]) == ["grid"]


def test_grid_stats_command_prints_the_figures():
    import io

    from django.core.management import call_command

    from tests.layers.appeals.workflow_fixtures import A, build_city, checked

    city = build_city()
    checked(city, A)
    out = io.StringIO()
    call_command("grid_stats", "350427", "--by", "channel", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("key\treceived\taccepted\tcompleted")
    assert lines[1].startswith("total\t1\t1\t1") and lines[2].startswith("mobile\t1")


