"""The pre-aggregation refreshed per month (layers.analytics.snapshot): an incremental refresh
rebuilds only the months whose appeals changed, leaves the others' partitions as they were, and
tiles and heat keep equalling a direct count over layers_appeal after each kind of change; a
tile read while a refresh swaps months in sees a month all old or all new."""

from __future__ import annotations

import datetime as dt
import io
import threading

import mapbox_vector_tile
import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.http import QueryDict

from layers.analytics.filters import parse_filter
from layers.analytics.heat import appeal_count
from layers.analytics.snapshot import (
    ALL_MONTH_CUBOIDS,
    REFRESH_LOCK,
    RefreshBusy,
    current_state,
    refresh,
)
from layers.analytics.tilemath import tiles_for_bbox
from layers.analytics.tiles import _bins_tile
from layers.appeals.categories import load_categories
from layers.appeals.models import Appeal
from tests.layers.factories import make_city

from .helpers import SHANGHAI, make_appeal
from .test_tile_counts import BBOX, sql_count, tile_count

A = "350427001001001001"
MAY, JUNE, JULY, AUGUST = (dt.date(2026, m, 1) for m in (5, 6, 7, 8))
# No period ("" … "channel=patrol", "grid=…"): the all-months cube (analytics_cube_all) at z10/z13,
# the facts at z16; whole months: the month partitions; other periods: the facts.
QUERIES = ["", "status=closed", "status=open&category=L0101", "from=2026-05-01&to=2026-05-31",
           "from=2026-06-10&to=2026-07-09", "channel=patrol", "category=E0102",
           "status=closed&category=L0101", "grid=350427001"]


def _month_appeals(grid, month: dt.date, n: int, **kw) -> list[Appeal]:
    out = []
    for i in range(n):
        # The month's last evening in Shanghai is still that month (16:30 UTC).
        day = month + dt.timedelta(days=i % 28)
        hour = 23 if i % 5 == 0 else 10
        out.append(make_appeal(117.791 + (i % 13) * 0.0015, 26.391 + (i % 11) * 0.0017,
                               grid=grid, reported_at=dt.datetime.combine(
                                   day, dt.time(hour, 30), tzinfo=SHANGHAI),
                               category=("E0102", "L0101")[i % 2],
                               status=("received", "closed", "in_progress")[i % 3],
                               channel=("mobile", "patrol")[i % 2], **kw))
    return out


def _partitions() -> dict[str, int]:
    """Attached month partitions of the facts and the cube → their table oid."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.oid::int FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent IN ('analytics_fact'::regclass, 'analytics_cube'::regclass)"
        )
        return dict(cursor.fetchall())


def _assert_cube_all_exact() -> None:
    """analytics_cube_all holds exactly the sum over the month partitions of the cuboids without
    a time dimension, per key — no row missing, none extra, none at 0."""
    cols = "cuboid, z, key, cx, cy, category_id, status, sub, channel"
    summed = (f"SELECT {cols}, sum(n)::int AS n FROM analytics_cube WHERE cuboid IN "
              f"({', '.join(map(str, ALL_MONTH_CUBOIDS))}) GROUP BY {cols}")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM (({summed}) EXCEPT SELECT {cols}, n FROM "
                       f"analytics_cube_all) d")
        missing = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM (SELECT {cols}, n FROM analytics_cube_all "
                       f"EXCEPT ({summed})) d")
        extra = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FILTER (WHERE n <= 0), count(*) FROM analytics_cube_all")
        zero, rows = cursor.fetchone()
    assert (missing, extra, zero) == (0, 0, 0)
    assert rows > 0 or not _partitions()


def _assert_counts() -> None:
    _assert_cube_all_exact()
    for query in QUERIES:
        f = parse_filter(QueryDict(query))
        expected = sql_count(f)
        assert tile_count(f, 10) == expected, query
        assert tile_count(f, 13) == expected, query
        assert appeal_count(f) == expected, query  # heat bins, summed
        if not f.date_from:
            assert tile_count(f, 16) == expected, query  # points: the facts' key ranges


@pytest.fixture
def months(db):
    grids = make_city(with_staff=False)
    for month in (MAY, JUNE, JULY):
        _month_appeals(grids[A], month, 30)
    first = refresh()
    assert first.months == [MAY, JUNE, JULY]
    return grids


@pytest.mark.django_db
def test_a_changed_month_is_rebuilt_alone_and_counts_stay_exact(months):
    before = _partitions()
    assert set(before) == {f"analytics_{t}_p2026{m:02d}" for t in ("fact", "cube")
                           for m in (5, 6, 7)}
    june = Appeal.objects.filter(reported_at__gte=dt.datetime(2026, 6, 1, tzinfo=SHANGHAI),
                                 reported_at__lt=dt.datetime(2026, 7, 1, tzinfo=SHANGHAI))
    _month_appeals(months[A], JUNE, 4)  # new appeals: live until the refresh
    _assert_counts()
    changed = june.exclude(status="closed").first()
    changed.status = "closed"  # shows at the next refresh (the staleness bound)
    changed.save()
    report = refresh()
    assert (report.months, report.kept, report.dropped) == ([JUNE], 2, [])
    after = _partitions()
    for name in before:  # May and July are the same tables; June's are new ones
        assert (after[name] == before[name]) == ("p202606" not in name), name
    assert current_state().watermark == Appeal.objects.order_by("-id").first().id
    _assert_counts()


@pytest.mark.django_db
def test_a_change_in_an_old_month_is_seen_even_without_updated_at(months):
    may = Appeal.objects.filter(reported_at__lt=dt.datetime(2026, 6, 1, tzinfo=SHANGHAI))
    # A bulk update does not touch updated_at; the month's fingerprint (the rows' xmin) still
    # changes. Written in a savepoint: its own (sub)transaction id, as another transaction's
    # write would be (a row rewritten by the transaction that wrote it keeps its xmin).
    with transaction.atomic():
        assert may.filter(status="received").update(status="closed") > 0
    closed = parse_filter(QueryDict("status=closed"))
    assert tile_count(closed, 13) < sql_count(closed)  # as of the last refresh
    report = refresh()
    assert report.months == [MAY] and report.kept == 2
    _assert_counts()


@pytest.mark.django_db
def test_a_new_month_appears_and_a_month_whose_appeals_are_gone_is_dropped(months):
    _month_appeals(months[A], AUGUST, 12)
    _assert_counts()  # live before the refresh
    report = refresh()
    assert report.months == [AUGUST] and report.kept == 3
    assert "analytics_fact_p202608" in _partitions()
    _assert_counts()
    # July's appeals leave (as when its appeal partition is detached for archiving): its
    # facts and bins go with them, so the counts still equal layers_appeal's.
    Appeal.objects.filter(reported_at__gte=dt.datetime(2026, 7, 1, tzinfo=SHANGHAI),
                          reported_at__lt=dt.datetime(2026, 8, 1, tzinfo=SHANGHAI)).delete()
    report = refresh()
    assert report.months == [] and report.dropped == [JULY]
    assert not any("p202607" in name for name in _partitions())
    _assert_counts()


@pytest.mark.django_db
def test_an_incremental_refresh_with_nothing_changed_rewrites_nothing(months):
    state, before = current_state(), _partitions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT month, built_at FROM analytics_month ORDER BY 1")
        built = cursor.fetchall()
        report = refresh()
        cursor.execute("SELECT month, built_at FROM analytics_month ORDER BY 1")
        assert cursor.fetchall() == built
    assert (report.months, report.dropped, report.facts, report.kept) == ([], [], 0, 3)
    assert current_state() == state  # same version: tile ETags and caches stay valid
    assert _partitions() == before
    _assert_counts()


@pytest.mark.django_db
def test_full_and_month_refreshes_and_the_command(months):
    before = _partitions()
    assert refresh(full=True).months == [MAY, JUNE, JULY]
    assert not set(_partitions().values()) & set(before.values())
    _assert_counts()
    # --month keeps the watermark: a new June appeal stays live, then joins at the next refresh.
    new = _month_appeals(months[A], JUNE, 1)[0]
    watermark = current_state().watermark
    out = io.StringIO()
    call_command("analytics_refresh", "--month", "2026-06", stdout=out)
    assert "rebuilt 2026-06" in out.getvalue()
    assert current_state().watermark == watermark < new.id
    _assert_counts()
    assert refresh().months == [JUNE]
    _assert_counts()
    with pytest.raises(CommandError, match="--month: a month like 2026-06"):
        call_command("analytics_refresh", "--month", "June")
    with pytest.raises(CommandError, match="not both"):
        call_command("analytics_refresh", "--month", "2026-06", "--full")


@pytest.mark.django_db
def test_a_second_refresh_while_one_runs_is_refused(months):
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"],
                         host=db["HOST"], port=db["PORT"] or None, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK])  # "the other refresh"
        with pytest.raises(RefreshBusy):
            refresh()
        with pytest.raises(CommandError, match="another analytics refresh is running"):
            call_command("analytics_refresh")
        # Released here: a closed connection's backend lets go of it a moment later.
        other.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])
    assert refresh(full=True).months == [MAY, JUNE, JULY]  # free again


def _tile_total(z: int, x: int, y: int, query: str) -> int:
    data = _bins_tile(z, x, y, parse_filter(QueryDict(query)))
    layers = mapbox_vector_tile.decode(data) if data else {}
    return sum(f["properties"]["count"] for layer in layers.values() for f in layer["features"])


@pytest.mark.django_db(transaction=True)
def test_tiles_read_during_a_refresh_see_a_month_all_old_or_all_new() -> None:
    """Readers on their own connections while the main thread rebuilds June and swaps it in
    (real transactions, VACUUM included). June: 10 appeals closed since the last refresh (the
    facts still have them open) and 5 new closed ones (live, above the watermark). All old
    reads 5 closed, all new 15; old partitions with the new watermark would read 0, new
    partitions with the old watermark 20. The no-period filters read the all-months cube,
    changed by difference in the same transaction."""
    grids = make_city(with_staff=False)
    _month_appeals(grids[A], MAY, 20)
    june = _month_appeals(grids[A], JUNE, 30)
    Appeal.objects.filter(id__in=[a.id for a in june]).update(status="received")
    refresh()
    Appeal.objects.filter(id__in=[a.id for a in june[:10]]).update(status="closed")
    new = _month_appeals(grids[A], JUNE, 5)
    Appeal.objects.filter(id__in=[a.id for a in new]).update(status="closed")
    z = 10
    (x, y, *_rest) = tiles_for_bbox(BBOX, z)
    assert tiles_for_bbox(BBOX, z) == (x, y, x, y)  # one tile holds the fixture
    may_closed = sql_count(parse_filter(QueryDict(
        "from=2026-05-01&to=2026-05-31&status=closed")))
    queries: dict[str, set[int]] = {
        "from=2026-06-01&to=2026-06-30&status=closed": {5, 15},  # facts, June only
        # No period: the all-months cube, changed by difference in the same swap.
        "status=closed": {may_closed + 5, may_closed + 15},
        # Every located appeal: the sum never changes; the old all-months cube with the new
        # watermark would miss the 5 new ones (50), the new one with the old watermark count
        # them twice (60).
        "": {55},
    }
    seen: list[tuple[str, int]] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not done.is_set():
                for query in queries:
                    seen.append((query, _tile_total(z, x, y, query)))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for _ in range(3):
            # Each rebuilds June: the update below rewrites a row (same status).
            assert refresh().months == [JUNE]
            Appeal.objects.filter(id=june[0].id).update(status="closed")  # touch June
    finally:
        done.set()
        for t in readers:
            t.join()
    assert not errors, errors
    for query, total in seen:
        assert total in queries[query], (query, total)
    values = {total for query, total in seen if query.startswith("from")}
    assert values == {5, 15}, values  # read before and after the swap
    closed = {total for query, total in seen if query == "status=closed"}
    assert closed == {may_closed + 5, may_closed + 15}, closed


@pytest.mark.django_db(transaction=True)
def test_a_flush_empties_the_pre_aggregation_too() -> None:
    """A transactional test's flush (Django's TRUNCATE of its own tables) also drops the month
    partitions, fingerprints and all-months cube and resets the watermark: the next test starts
    from nothing, not from bins of appeals that no longer exist."""
    load_categories()  # flushed by the transactional test before
    grids = make_city(with_staff=False)
    _month_appeals(grids[A], MAY, 12)
    refresh()
    assert _partitions() and current_state().watermark > 0
    call_command("flush", interactive=False, verbosity=0)
    assert not Appeal.objects.exists() and _partitions() == {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM analytics_month), "
                       "(SELECT count(*) FROM analytics_cube_all), "
                       "(SELECT count(*) FROM pg_class WHERE relname ~ '^analytics_(fact|cube)_p')")
        assert cursor.fetchone() == (0, 0, 0)
    assert current_state().watermark == 0
    # A fresh start counts only what is there now.
    load_categories()
    grids = make_city(with_staff=False)
    _month_appeals(grids[A], JUNE, 7)
    _assert_counts()
    refresh()
    _assert_counts()
