"""Care figures per grid and month (issue 13, item 5): one SQL statement per report.

For every grid at level `by` under the requested grid (current versions, a code prefix) and
every month of the period (generate_series), in the deployment's time zone:

    subjects          red / yellow / blue / total: subjects active at the month's end — status
                      active or exited, enrolled before the month ended and not exited by then
    visits            key / necessary / anytime / regular / total: visits started in the month
    visited_in_interval  active subjects with a counting visit (`counts`) started within the
                      last INTERVAL_DAYS[colour] days of the month (the month's end minus the
                      interval, up to its end)
    visit_rate        探访率 = visited_in_interval / subjects.total (null when no subject)
    overdue           visits due in the month (VisitDue.due_at, any kind, not cancelled) that
                      were met after they were due, or are still unmet and past due now
    mean_days_overdue mean of (met_at, or now) − due_at in days over those

A subject's grid is where the person lives now: the micro-grid of the building of their open
residence (as layers.care.access.home_of), so a subject who moved counts, with all their
visits, for the new home; a subject with no open residence counts nowhere.

"Enrolled" is the approval of the subject's enrolment proposal (four eyes: CareProposal kind
enrol, outcome approved), or the subject's created_at when there is no such proposal (records
carried over from another system); a proposal awaiting approval is not a subject yet.

Small cells: `suppress` blanks counts below MIN_CELL, and every rate or mean derived from a
blanked count, for viewers who do not see the groups (layers.care.access); the totals are the
sum over the whole subtree and are suppressed by the same rule for the requested grid. There is
no secondary suppression: a blanked cell can be recovered from the totals when it is the only
blanked one of its column, so posts that see only aggregates should get coarse `by` levels.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from geogrid.hierarchy import code_lengths
from geogrid.models import Grid
from layers.buildings.models import Building
from layers.care.models import CareProposal, CareSubject, Colour, Visit, VisitDue
from layers.people.models import Dwelling, Household, Residence

COLOURS = tuple(c.value for c in Colour)
KINDS = tuple(k.value for k in Visit.Kind)
MAX_MONTHS = 60  # five years of rows per request


def _tables() -> dict[str, str]:
    return {"grid": Grid._meta.db_table, "building": Building._meta.db_table,
            "dwelling": Dwelling._meta.db_table, "household": Household._meta.db_table,
            "residence": Residence._meta.db_table, "subject": CareSubject._meta.db_table,
            "proposal": CareProposal._meta.db_table, "visit": Visit._meta.db_table,
            "due": VisitDue._meta.db_table}


_SQL = """
WITH months AS (
    SELECT m::date AS month, m AT TIME ZONE %(tz)s AS t0,
           (m + interval '1 month') AT TIME ZONE %(tz)s AS t1
    FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 month') m
), grids AS (
    SELECT g.code, g.name{geometry} FROM {grid} g
    WHERE g.valid_to IS NULL AND g.level = %(by)s AND g.code LIKE %(prefix)s
), homes AS (  -- every subject living in the subtree, with the code of its row
    SELECT s.id, s.colour, s.status, s.exited_at, left(g.code, %(length)s) AS code,
           coalesce(ap.at, s.created_at) AS enrolled_at,
           make_interval(days => (%(intervals)s::jsonb ->> s.colour)::int) AS span
    FROM {subject} s
    JOIN {residence} r ON r.person_id = s.person_id AND r.valid_to IS NULL
    JOIN {household} h ON h.id = r.household_id
    JOIN {dwelling} d ON d.id = h.dwelling_id
    JOIN {building} b ON b.id = d.building_id
    JOIN {grid} g ON g.id = b.grid_id
    LEFT JOIN LATERAL (SELECT min(p.decided_at) AS at FROM {proposal} p
                       WHERE p.subject_id = s.id AND p.kind = 'enrol'
                         AND p.outcome = 'approved') ap ON true
    WHERE g.code LIKE %(prefix)s
), subjects AS (
    SELECT m.month, h.code,
           count(*) FILTER (WHERE h.colour = 'red') AS red,
           count(*) FILTER (WHERE h.colour = 'yellow') AS yellow,
           count(*) FILTER (WHERE h.colour = 'blue') AS blue,
           count(*) AS total,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM {visit} v
               WHERE v.subject_id = h.id AND v.counts
                 AND v.started_at >= m.t1 - h.span AND v.started_at < m.t1)) AS visited
    FROM months m
    JOIN homes h ON h.status IN ('active', 'exited') AND h.enrolled_at < m.t1
                AND (h.exited_at IS NULL OR h.exited_at >= m.t1)
    GROUP BY 1, 2
), visits AS (
    SELECT m.month, h.code,
           count(*) FILTER (WHERE v.kind = 'key') AS key,
           count(*) FILTER (WHERE v.kind = 'necessary') AS necessary,
           count(*) FILTER (WHERE v.kind = 'anytime') AS anytime,
           count(*) FILTER (WHERE v.kind = 'regular') AS regular,
           count(*) AS total
    FROM months m
    JOIN {visit} v ON v.started_at >= m.t0 AND v.started_at < m.t1
    JOIN homes h ON h.id = v.subject_id
    GROUP BY 1, 2
), dues AS (
    SELECT m.month, h.code, count(*) AS overdue,
           sum(extract(epoch FROM coalesce(d.met_at, %(now)s) - d.due_at)) / 86400.0 AS days
    FROM months m
    JOIN {due} d ON d.due_at >= m.t0 AND d.due_at < m.t1 AND d.cancelled_at IS NULL
                AND (d.met_at > d.due_at OR (d.met_at IS NULL AND d.due_at < %(now)s))
    JOIN homes h ON h.id = d.subject_id
    GROUP BY 1, 2
)
SELECT g.code, g.name, m.month{geometry_out},
       coalesce(s.red, 0), coalesce(s.yellow, 0), coalesce(s.blue, 0), coalesce(s.total, 0),
       coalesce(v.key, 0), coalesce(v.necessary, 0), coalesce(v.anytime, 0),
       coalesce(v.regular, 0), coalesce(v.total, 0),
       coalesce(s.visited, 0), coalesce(o.overdue, 0), o.days
FROM grids g CROSS JOIN months m
LEFT JOIN subjects s ON s.code = g.code AND s.month = m.month
LEFT JOIN visits v ON v.code = g.code AND v.month = m.month
LEFT JOIN dues o ON o.code = g.code AND o.month = m.month
ORDER BY g.code, m.month
"""


@dataclass
class Figures:
    """Counts of one grid and month (or of a whole report), before suppression."""

    subjects: dict[str, int]
    visits: dict[str, int]
    visited_in_interval: int
    overdue: int
    days_overdue: float  # the sum, for means over several rows

    def as_dict(self, *, min_cell: int | None = None) -> dict[str, Any]:
        """The answer's figures; with `min_cell`, counts under it and what derives from them
        become null."""
        def cell(n: int) -> int | None:
            return None if min_cell is not None and n < min_cell else n

        subjects = {k: cell(n) for k, n in self.subjects.items()}
        visited = cell(self.visited_in_interval)
        overdue = cell(self.overdue)
        total = subjects["total"]
        return {
            "subjects": subjects,
            "visits": {k: cell(n) for k, n in self.visits.items()},
            "visited_in_interval": visited,
            "visit_rate": (round(visited / total, 4)
                           if visited is not None and total else None),
            "overdue": overdue,
            "mean_days_overdue": (round(self.days_overdue / overdue, 2)
                                  if overdue else None),
        }


@dataclass
class Row:
    code: str
    name: str
    month: dt.date
    figures: Figures
    geometry: str | None = None  # GeoJSON text, for the map layer


@dataclass
class Report:
    rows: list[Row]
    totals: Figures  # visits and overdue summed over the period; subjects at its last month


def months_between(first: dt.date, last: dt.date) -> int:
    """Months from `first` to `last`, both counted."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def care_stats(prefix: str, by: int, first: dt.date, last: dt.date, *,
               geometry: bool = False, now: dt.datetime | None = None) -> Report:
    """Figures of the grids at level `by` under `prefix`, months `first`..`last` (first days)."""
    if not 1 <= months_between(first, last) <= MAX_MONTHS:
        raise ValueError(f"from 1 to {MAX_MONTHS} months")
    care = settings.GEOGRID["CARE"]
    sql = _SQL.format(**_tables(),
                      geometry=", ST_AsGeoJSON(g.boundary, 6) AS geojson" if geometry else "",
                      geometry_out=", g.geojson" if geometry else "")
    params: dict[str, Any] = {
        "tz": settings.TIME_ZONE, "first": first, "last": last, "by": by,
        "prefix": prefix + "%", "length": code_lengths()[by],
        "intervals": json.dumps({c: int(care["INTERVAL_DAYS"][c]) for c in COLOURS}),
        "now": now or timezone.now(),
    }
    # The planner overestimates months × visits by orders of magnitude, which crosses the JIT
    # thresholds: compiling took 3 of the 3.4 s of a county-wide year (docs/benchmarks.md).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        records = cursor.fetchall()
    rows = []
    for record in records:
        code, name, month, *rest = record
        shape = rest.pop(0) if geometry else None
        red, yellow, blue, total, key, nec, anytime, regular, visits, visited, overdue, days = rest
        rows.append(Row(code, name, month, Figures(
            subjects={"red": red, "yellow": yellow, "blue": blue, "total": total},
            visits={"key": key, "necessary": nec, "anytime": anytime, "regular": regular,
                    "total": visits},
            visited_in_interval=visited, overdue=overdue,
            days_overdue=float(days or 0.0)), shape))
    return Report(rows, _totals(rows, last))


def _totals(rows: list[Row], last: dt.date) -> Figures:
    """Visits and overdue over the period; subjects and the visited at the last month's end
    (a subject is counted once, not once per month)."""
    at_end = [r.figures for r in rows if r.month == last]
    return Figures(
        subjects={k: sum(f.subjects[k] for f in at_end) for k in (*COLOURS, "total")},
        visits={k: sum(r.figures.visits[k] for r in rows) for k in (*KINDS, "total")},
        visited_in_interval=sum(f.visited_in_interval for f in at_end),
        overdue=sum(r.figures.overdue for r in rows),
        days_overdue=sum(r.figures.days_overdue for r in rows),
    )


def min_cell() -> int:
    return int(settings.GEOGRID["CARE"]["MIN_CELL"])
