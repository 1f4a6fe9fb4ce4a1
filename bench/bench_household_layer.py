"""The dashboard's household layer at city scale: household counts per grid and the 四清 ledger
rollup (layers.people.ledger), with the alternatives measured in the same run (results:
docs/benchmarks.md, "Household layer").

    .venv/bin/python bench/bench_household_layer.py --setup [--sample DIR]   # once
    .venv/bin/python bench/bench_household_layer.py [--runs 5]

Runs against the database of DATABASE_URL (give it one of its own). `--setup` loads the
city-scale sample's grids, buildings and staff (`fixtures.city --scale city --seed 1`, generated
into --sample if missing; no appeals) and then makes the people with set-based SQL
(generate_series) over its buildings — the sample city has no register yet: one dwelling per
household of `Building.households` (1,000,000), micro-units of 10 dwellings per micro-grid, an
active household in 95 % of the dwellings plus moved-out ones, 1–4 residents each, focus tags on
about 12 %, a year of change-log rows with their verifications, and household issues; the
verification dates are spread so that every 四清 figure has clear and lapsed rows. Everything
is deterministic (setseed).

Measured (median of --runs, after one warm-up):
- counts per grid (`household_counts`) for a district, a subdistrict, a community and a zone;
- the ledger rollup (`grid_ledger`: the grid and its children in one set-based query) for the
  same grids and a micro-grid, against one query per child grid (`rollup_per_grid`);
- the two endpoints through Django's test client (view, serializers, JSON);
- the per-100-households base of the appeal choropleth: people layer with the buildings as
  fallback (`households_per_micro_grid`) against the buildings' figure alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "var" / "sample" / "city-1"


def django_setup() -> None:
    if "DATABASE_URL" not in os.environ:
        raise SystemExit("set DATABASE_URL to the database this benchmark may fill")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")
    import django

    django.setup()


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    fn()  # warm-up: plans and caches
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


# --- setup ---------------------------------------------------------------------------------------
PEOPLE_SQL = [
    ("seed", "SELECT setseed(0.42)"),
    ("dwelling plan", """
        CREATE TEMP TABLE bench_dw AS
        SELECT b.id AS building_id, b.grid_id, i,
               1 + (i - 1) % greatest(b.units, 1) AS unit_no,
               ((i - 1) / greatest(b.units, 1)) / 2 + 1 AS floor,
               ((i - 1) / greatest(b.units, 1)) % 2 + 1 AS pos
          FROM layers_building b, generate_series(1, b.households) i
         WHERE b.grid_id IS NOT NULL"""),
    ("unit of each dwelling", """
        CREATE TEMP TABLE bench_dw_unit AS
        SELECT building_id, grid_id, unit_no, floor, pos,
               (row_number() OVER (PARTITION BY grid_id
                                   ORDER BY building_id, unit_no, floor, pos) - 1) / 10 AS k
          FROM bench_dw"""),
    ("micro-units", """
        INSERT INTO people_microunit (code, name, grid_id, needs_review, review_note, created_at)
        SELECT g.code || lpad((x.k + 1)::text, 3, '0'), '微单元' || (x.k + 1), x.grid_id, false,
               '', now()
          FROM (SELECT DISTINCT grid_id, k FROM bench_dw_unit) x
          JOIN geogrid_grid g ON g.id = x.grid_id"""),
    ("dwellings", """
        INSERT INTO people_dwelling (building_id, unit_no, floor, room_no, usage, micro_unit_id,
                                     occupancy_verified_at)
        SELECT d.building_id, d.unit_no, d.floor, (d.floor * 100 + d.pos)::text,
               CASE WHEN random() < 0.05 THEN 'vacant' WHEN random() < 0.2 THEN 'rented'
                    ELSE 'owner' END, u.id,
               CASE WHEN r < 0.70 THEN now() - random() * interval '170 days'
                    WHEN r < 0.90 THEN now() - interval '190 days' - random() * interval '300 days'
                    END
          FROM (SELECT *, random() AS r FROM bench_dw_unit) d
          JOIN geogrid_grid g ON g.id = d.grid_id
          JOIN people_microunit u ON u.code = g.code || lpad((d.k + 1)::text, 3, '0')"""),
    ("households", """
        INSERT INTO people_household (dwelling_id, kind, tags, contact_phone_masked, status,
                                      profile_verified_at, created_at, ended_on, version)
        SELECT d.id, CASE WHEN random() < 0.2 THEN 'floating' ELSE 'registered' END,
               CASE WHEN t < 0.04 THEN ARRAY['独居', '高龄']::varchar[]
                    WHEN t < 0.08 THEN ARRAY['空巢']::varchar[]
                    WHEN t < 0.10 THEN ARRAY['失能失智']::varchar[]
                    WHEN t < 0.12 THEN ARRAY['残疾']::varchar[]
                    WHEN t < 0.15 THEN ARRAY['留守']::varchar[]
                    ELSE ARRAY[]::varchar[] END,
               '138****' || lpad((d.id % 10000)::text, 4, '0'),
               CASE WHEN d.usage = 'vacant' THEN 'moved_out' ELSE 'active' END,
               CASE WHEN p < 0.65 THEN now() - random() * interval '175 days'
                    WHEN p < 0.85 THEN now() - interval '185 days' - random() * interval '200 days'
                    END,
               now() - interval '2 years',
               CASE WHEN d.usage = 'vacant' THEN current_date - 30 END, 1
          FROM (SELECT d.*, random() AS t, random() AS p FROM people_dwelling d) d"""),
    ("member plan", """
        CREATE TEMP TABLE bench_members AS
        SELECT nextval(pg_get_serial_sequence('people_person', 'id')) AS pid, h.id AS household_id,
               h.status, j
          FROM (SELECT id, status, random() AS s FROM people_household) h,
               generate_series(1, CASE WHEN h.s < 0.25 THEN 1 WHEN h.s < 0.60 THEN 2
                                       WHEN h.s < 0.85 THEN 3 ELSE 4 END) j"""),
    ("persons", """
        INSERT INTO people_person (id, name, id_type, id_masked, gender, phone_masked,
                                   population_kind, hukou_division_code, party_member,
                                   created_at, version)
        SELECT pid, '居民' || pid, 'none', '', CASE WHEN pid % 2 = 0 THEN 'F' ELSE 'M' END, '',
               'registered', '', false, now(), 1
          FROM bench_members"""),
    ("residences", """
        INSERT INTO people_residence (person_id, household_id, relation, presence, valid_from,
                                      valid_to)
        SELECT pid, household_id, CASE WHEN j = 1 THEN 'head' ELSE 'child' END,
               CASE WHEN random() < 0.05 THEN 'absent' ELSE 'both' END, date '2020-01-01',
               CASE WHEN status = 'active' THEN NULL ELSE current_date - 30 END
          FROM bench_members"""),
    ("changes (a year, ~0.3 per household)", """
        INSERT INTO people_changeevent (kind, household_id, effective_date, source, reported_at,
                                        diff, note)
        SELECT (ARRAY['move_in', 'move_out', 'birth', 'death', 'member_added', 'member_left',
                      'contact_changed', 'tags_changed', 'profile_checked',
                      'occupancy_checked'])[1 + floor(random() * 10)::int],
               h.id, current_date, 'door', now() - random() * interval '365 days', '{}', ''
          FROM people_household h
         WHERE random() < 0.3"""),
    ("verifications (85 %, 0–20 days later)", """
        INSERT INTO people_changeverification (change_id, outcome, verified_at, note)
        SELECT c.id, 'confirmed', least(now(), c.reported_at + random() * interval '20 days'), ''
          FROM people_changeevent c
         WHERE random() < 0.85"""),
    ("issues (3 % of households)", """
        INSERT INTO people_householdissue (household_id, text, status, raised_at, resolved_at)
        SELECT h.id, '问题', CASE WHEN r < 0.4 THEN 'open' ELSE 'resolved' END,
               now() - random() * interval '120 days',
               CASE WHEN r < 0.4 THEN NULL ELSE now() END
          FROM (SELECT id, random() AS r FROM people_household WHERE random() < 0.03) h"""),
    ("analyze", "ANALYZE"),
]


def setup(sample: Path) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from geogrid.models import Grid

    call_command("migrate", verbosity=0)
    if not Grid.objects.exists():
        if not (sample / "manifest.json").is_file():
            from fixtures.city import generate

            started = time.perf_counter()
            generate("city", 1, sample, progress=False)
            print(f"generated the city sample in {time.perf_counter() - started:.0f} s")
        from fixtures.load import LoadParams, load_city

        started = time.perf_counter()
        options: dict[str, Any] = {"progress": False, "appeals": False}
        if "people" in LoadParams.__dataclass_fields__:
            options["people"] = False  # the people come from the SQL below, whatever the sample
        report = load_city(LoadParams(sample, **options))
        print("\n".join(report.lines()))
        print(f"grids/buildings/staff loaded in {time.perf_counter() - started:.0f} s")
    from layers.people.models import Household

    if Household.objects.exists():
        print("people already made")
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for name, sql in PEOPLE_SQL:
            if name == "analyze":
                continue
            started = time.perf_counter()
            cursor.execute(sql)
            secs = time.perf_counter() - started
            print(f"  {name:<40} {cursor.rowcount:>10,} rows {secs:6.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sizes() -> dict[str, int]:
    from django.db import connection

    tables = ("geogrid_grid", "layers_building", "people_microunit", "people_dwelling",
              "people_household", "people_person", "people_residence", "people_changeevent",
              "people_changeverification", "people_householdissue")
    out = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # fixed names
            out[table] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM people_household WHERE status = 'active'")
        out["active households"] = cursor.fetchone()[0]
    return out


# --- measurements --------------------------------------------------------------------------------
def sample_grids() -> dict[int, Any]:
    """The grid of each level with the most households below it (the heaviest case)."""
    from django.db import connection

    from geogrid.hierarchy import code_lengths
    from geogrid.models import Grid

    out = {}
    with connection.cursor() as cursor:
        for level, length in sorted(code_lengths().items()):
            cursor.execute(
                """SELECT left(g.code, %s) FROM people_household h
                     JOIN people_dwelling d ON d.id = h.dwelling_id
                     JOIN layers_building b ON b.id = d.building_id
                     JOIN geogrid_grid g ON g.id = b.grid_id
                    GROUP BY 1 ORDER BY count(*) DESC LIMIT 1""", [length])
            out[level] = Grid.objects.current().get(code=cursor.fetchone()[0])
    return out


def buildings_only(prefix: str, length: int) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT left(bg.code, %s), sum(b.households) FROM layers_building b
                 JOIN geogrid_grid bg ON bg.id = b.grid_id WHERE bg.code LIKE %s GROUP BY 1""",
            [length, prefix + "%"])
        return cursor.fetchall()


def people_base(prefix: str, length: int) -> list:
    from django.db import connection

    from layers.people.ledger import households_per_micro_grid

    sql, params = households_per_micro_grid(prefix)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT left(code, %s), sum(households), bool_and(from_people) "
                       f"FROM ({sql}) t GROUP BY 1", [length, *params])
        return cursor.fetchall()


def build_summaries() -> tuple[float, float]:
    """The alternative a maintained summary would give: per micro-unit figures (as of today)
    and per micro-grid counts in two temporary tables. Returns the seconds to build each."""
    from django.db import connection
    from django.utils import timezone

    from layers.people import ledger

    params = {**ledger._bounds(timezone.localdate(), ledger.ledger_days()), "prefix": "%"}
    with connection.cursor() as cursor:
        cursor.execute("SET random_page_cost = 1.1")
        started = time.perf_counter()
        cursor.execute("DROP TABLE IF EXISTS bench_unit_summary")
        cursor.execute(
            "CREATE TEMP TABLE bench_unit_summary AS WITH "
            + ledger._per_unit("g.code LIKE %(prefix)s", large=True)
            + " SELECT * FROM per_unit", params)
        cursor.execute("CREATE INDEX ON bench_unit_summary (grid_code varchar_pattern_ops)")
        cursor.execute("ANALYZE bench_unit_summary")
        units_s = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("DROP TABLE IF EXISTS bench_grid_counts")
        cursor.execute(
            """CREATE TEMP TABLE bench_grid_counts AS
               WITH hh AS (SELECT h.id, bg.code, h.tags && %s::varchar[] AS focus
                             FROM people_household h
                             JOIN people_dwelling d ON d.id = h.dwelling_id
                             JOIN layers_building b ON b.id = d.building_id
                             JOIN geogrid_grid bg ON bg.id = b.grid_id
                            WHERE h.status = 'active'),
                    res AS (SELECT hh.code, count(*) AS n FROM people_residence r
                              JOIN hh ON hh.id = r.household_id
                             WHERE r.valid_to IS NULL AND r.presence <> 'absent' GROUP BY 1)
               SELECT hh.code, count(*) AS households, count(*) FILTER (WHERE focus) AS focus,
                      max(res.n) AS residents
                 FROM hh LEFT JOIN res USING (code) GROUP BY 1""", [ledger.focus_tags()])
        cursor.execute("CREATE INDEX ON bench_grid_counts (code varchar_pattern_ops)")
        cursor.execute("ANALYZE bench_grid_counts")
        counts_s = time.perf_counter() - started
        cursor.execute("RESET random_page_cost")
    return units_s, counts_s


def from_summaries(code: str, length: int) -> tuple[list, list]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT key, count(*), sum(dwellings), sum(occupancy), sum(households),
                      sum(profile), sum(issues), sum(changes), sum(changes_of)
                 FROM (SELECT left(grid_code, %s) AS key, * FROM bench_unit_summary
                        WHERE grid_code LIKE %s) t
                GROUP BY GROUPING SETS ((key), ())""", [length, code + "%"])
        ledger_rows = cursor.fetchall()
        cursor.execute(
            """SELECT key, sum(households), sum(residents), sum(focus)
                 FROM (SELECT left(code, %s) AS key, * FROM bench_grid_counts
                        WHERE code LIKE %s) t
                GROUP BY GROUPING SETS ((key), ())""", [length, code + "%"])
        return ledger_rows, cursor.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--setup", action="store_true", help="load the sample and make people")
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    django_setup()
    if args.setup:
        setup(args.sample)
        return
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from geogrid.hierarchy import code_lengths
    from layers.people import ledger

    for name, n in sizes().items():
        print(f"{name:<28} {n:>12,}")
    grids = sample_grids()
    lengths = code_lengths()
    runs = args.runs
    print(f"\nmedian of {runs} runs, seconds")
    from django.core.cache import cache

    print(f"{'grid':<34} {'counts':>8} {'(cached)':>8} {'ledger (1 query)':>17} "
          f"{'per child':>10} {'children':>8}")
    for level, grid in grids.items():
        row_level = min(level + 1, 5)

        def counts(g: Any = grid, rl: int = row_level) -> Any:
            cache.clear()
            return ledger.household_counts(g, rl)

        counts_s, _ = timed(counts, runs)
        cached_s, _ = timed(lambda g=grid, rl=row_level: ledger.household_counts(g, rl), runs)
        ledger_s, result = timed(lambda g=grid: ledger.grid_ledger(g), runs)
        per_child = "—"
        if level < 5:
            per_s, per = timed(lambda g=grid: ledger.rollup_per_grid(g), runs)
            assert {c: f.as_dict() for c, f in per.items()} == {
                r.code: r.figures.as_dict() for r in result.rows}, "the two rollups differ"
            per_child = f"{per_s:.3f}"
        print(f"L{level} {grid.code:<31}{counts_s:>8.3f} {cached_s:>8.3f} {ledger_s:>17.3f} "
              f"{per_child:>10} {len(result.rows):>8}")
        if level == 1:
            f = result.figures
            print(f"   district figures: units {f.units:,}, dwellings {f.dwellings:,}, "
                  f"households {f.households:,}; shares "
                  + ", ".join(f"{n} {getattr(f, n).share}" for n in ledger.FIGURES))
    # Through the API (superuser: every grid; the view, serializers and JSON included).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    user = get_user_model().objects.filter(is_superuser=True).first() or (
        get_user_model().objects.create_superuser("bench-household-layer", password=None))
    client = Client()
    client.force_login(user)
    print("\nAPI (test client)")
    for level in (1, 2, 3):
        code = grids[level].code
        for path in (f"/api/v1/people/counts/?grid={code}", f"/api/v1/people/ledger/?grid={code}"):
            def call(p: str = path) -> Any:
                cache.clear()  # the answer computed, not the cached counts
                return client.get(p, secure=True)

            secs, response = timed(call, runs)
            assert response.status_code == 200, response.content[:200]
            print(f"  {path:<52} {secs:.3f} s  {len(response.content):>7,} bytes")
    print("\nalternative: a per-micro-unit / per-micro-grid summary (temporary tables)")
    units_s, counts_s = build_summaries()
    print(f"  building them for the whole city: units {units_s:.1f} s, counts {counts_s:.1f} s")
    for level in (1, 2, 3, 4):
        grid = grids[level]
        secs, _ = timed(lambda g=grid, n=lengths[level + 1]: from_summaries(g.code, n), runs)
        print(f"  L{level} {grid.code:<20} ledger + counts rollup from the summaries {secs:.3f} s")
    print("\nper-100-households base of the choropleth (rows of the level below)")
    for level in (1, 2, 3):
        grid = grids[level]
        length = lengths[level + 1]
        people_s, rows = timed(lambda g=grid, n=length: people_base(g.code, n), runs)
        build_s, _ = timed(lambda g=grid, n=length: buildings_only(g.code, n), runs)
        print(f"  L{level} {grid.code:<20} people+fallback {people_s:.3f} s · buildings only "
              f"{build_s:.3f} s  ({len(rows)} rows)")
    print("\nGET /api/v1/heat/grids (grid_stats; this database has no appeals): the household "
          "base computed, or from the cache")
    from layers.analytics.filters import AppealFilter
    from layers.analytics.heat import grid_stats

    for level in (1, 2, 3):
        grid = grids[level]

        def cold(g: Any = grid, lv: int = level) -> Any:
            cache.clear()
            return grid_stats(AppealFilter(), lv + 1, g.code)

        cold_s, _ = timed(cold, runs)
        warm_s, _ = timed(lambda g=grid, lv=level: grid_stats(AppealFilter(), lv + 1, g.code),
                          runs)
        print(f"  L{level} {grid.code:<20} computed {cold_s:.3f} s · cached {warm_s:.3f} s")


if __name__ == "__main__":
    main()
