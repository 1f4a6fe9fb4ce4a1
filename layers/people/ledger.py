"""The 四清 ledger (人户清、户情清、变化清、问题清) per micro-unit, rolled up to any grid, the
重点关注 list of a unit, and household counts per grid — set-based SQL, one query per answer.

Everything is counted per micro-unit (a dwelling belongs to a unit through
`Dwelling.micro_unit`; a household through its dwelling; a change through the unit it names,
else the dwelling it names, else its household's dwelling). A grid's figures are the sums of the
numerators and of the denominators of the units whose micro-grid lies in its subtree (code
prefix of `MicroUnit.grid`), never an average of percentages. Dwellings and households in no
micro-unit have no leader keeping their ledger and are in no figure (the counts below still
count them, by their building's micro-grid).

Days. `as_of` is a local (Asia/Shanghai) date and means "at the end of that day"; a thing's age
is `as_of` minus the local date it happened, in whole days (0 = that day). N are
settings.GEOGRID["LEDGER_DAYS"] (defaults: occupancy 180, profile 180, changes 10, issues 30,
changes_window 90). Something dated after `as_of` has not happened yet.

- 人户清 (occupancy): numerator = the unit's dwellings whose `occupancy_verified_at` is at most
  N["occupancy"] days old; denominator = all the unit's dwellings (vacant ones too: knowing a
  room is empty is knowing who lives there).
- 户情清 (profile): numerator = the unit's active households whose `profile_verified_at` is at
  most N["profile"] days old; denominator = the unit's active households.
- 变化清 (changes): the changes considered are the unit's ChangeEvents reported at most
  N["changes_window"] days ago, except the kinds that are checks or system rows themselves
  (occupancy_checked, profile_checked, grid_changed) and the consequences the system drew
  (source `system`, e.g. a dwelling left vacant by a move-out). A change is *clear* when it has a
  ChangeVerification (confirmed or rejected: either way it was checked) dated at most
  N["changes"] days after the day it was reported, and not after `as_of`; it is *due* when it
  is more than N["changes"] days old. Numerator = clear changes; denominator = changes that are
  clear or due. A pending change younger than that is not yet due and in neither (it is
  counted as `pending`); one older is not clear (`overdue` counts those still unverified; a
  change verified late stays not clear until it leaves the window).
- 问题清 (issues): numerator = the unit's active households with no HouseholdIssue that is
  `open`, has no appeal and was raised more than N["issues"] days ago; denominator = the unit's
  active households.

A figure whose denominator is 0 has share null (not 100 %) and no tick; `tick` is true when
numerator = denominator > 0. Shares are fractions (0.8333), rounded to 4 places.

What the ledger cannot replay: a dwelling or a household keeps only its latest verification,
and households their current status, so `as_of` is meant for today or later ("what will have
lapsed by then if nobody visits"); the API refuses dates before today. A verification dated
after `as_of` does not count.

The 重点关注 list: a unit's active households with any tag in settings.GEOGRID["FOCUS_TAGS"] —
room, head's name, household size, tags, masked phone; never an ID number. Its reader writes an
access-log row (layers.people.ledger_views); this module only reads.

Household counts (`household_counts`) and the household base of the appeal choropleth
(`households_base`, used by layers.analytics.heat) go by the building's micro-grid: a household
is where its building is. Both are sums over a subtree's whole register — seconds for a
district of a million-household city — and the dashboard asks for them on every refresh, so
they are cached for a minute under a key that changes whenever a household, change-log row,
building or grid version is added (every move, death and verification adds one). The ledger
figures are never cached: a verification must show at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from geogrid.hierarchy import code_lengths
from geogrid.models import Grid

from .models import ChangeEvent, MicroUnit

FIGURES = ("occupancy", "profile", "changes", "issues")
DEFAULT_DAYS = {"occupancy": 180, "profile": 180, "changes": 10, "issues": 30,
                "changes_window": 90}
# Kinds that are themselves checks (they update the verified_at columns) or system rows.
NOT_CHANGES = (ChangeEvent.Kind.OCCUPANCY_CHECKED, ChangeEvent.Kind.PROFILE_CHECKED,
               ChangeEvent.Kind.GRID_CHANGED)
MICRO_GRID_LEVEL = 5


# --- settings and dates ---------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerDays:
    occupancy: int
    profile: int
    changes: int
    issues: int
    changes_window: int

    def as_dict(self) -> dict[str, int]:
        return {"occupancy": self.occupancy, "profile": self.profile, "changes": self.changes,
                "issues": self.issues, "changes_window": self.changes_window}


def ledger_days(overrides: Mapping[str, int] | None = None) -> LedgerDays:
    """settings.GEOGRID["LEDGER_DAYS"] over the defaults (and `overrides` over both)."""
    days = {**DEFAULT_DAYS, **settings.GEOGRID.get("LEDGER_DAYS", {}), **(overrides or {})}
    values = {name: int(days[name]) for name in DEFAULT_DAYS}
    if any(v < 0 for v in values.values()):
        raise ValueError(f"LEDGER_DAYS must not be negative: {values}")
    values["changes_window"] = max(values["changes_window"], values["changes"])
    return LedgerDays(**values)


def start_of(day: dt.date) -> dt.datetime:
    """The first moment of a local day."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _bounds(as_of: dt.date, days: LedgerDays) -> dict[str, Any]:
    return {
        "cutoff": start_of(as_of + dt.timedelta(days=1)),
        "occupancy_from": start_of(as_of - dt.timedelta(days=days.occupancy)),
        "profile_from": start_of(as_of - dt.timedelta(days=days.profile)),
        "changes_from": start_of(as_of - dt.timedelta(days=days.changes_window)),
        "changes_due_before": start_of(as_of - dt.timedelta(days=days.changes)),
        "issues_before": start_of(as_of - dt.timedelta(days=days.issues)),
        "changes_days": days.changes,
        "tz": settings.TIME_ZONE,
        "not_changes": [str(k) for k in NOT_CHANGES],
    }


# --- figures -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    clear: int
    of: int
    pending: int = 0  # changes only: not yet verified, not yet due
    overdue: int = 0  # changes only: due and still unverified

    @property
    def share(self) -> float | None:
        return round(self.clear / self.of, 4) if self.of else None

    @property
    def tick(self) -> bool | None:
        return self.clear == self.of if self.of else None

    def as_dict(self, *, changes: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"clear": self.clear, "of": self.of, "share": self.share,
                               "tick": self.tick}
        if changes:
            out.update(pending=self.pending, overdue=self.overdue)
        return out


@dataclass(frozen=True)
class Figures:
    units: int = 0
    dwellings: int = 0
    households: int = 0
    occupancy: Figure = Figure(0, 0)
    profile: Figure = Figure(0, 0)
    changes: Figure = Figure(0, 0)
    issues: Figure = Figure(0, 0)

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "dwellings": self.dwellings, "households": self.households,
                "occupancy": self.occupancy.as_dict(), "profile": self.profile.as_dict(),
                "changes": self.changes.as_dict(changes=True), "issues": self.issues.as_dict()}

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Figures:
        (units, dwellings, occupancy, households, profile, issues, changes, changes_of, pending,
         overdue) = (int(v or 0) for v in row)
        return cls(units=units, dwellings=dwellings, households=households,
                   occupancy=Figure(occupancy, dwellings), profile=Figure(profile, households),
                   changes=Figure(changes, changes_of, pending, overdue),
                   issues=Figure(issues, households))


# Per micro-unit numerators and denominators; `{units}` selects the units (alias u, their grid g).
# Every table is reached from the selected units through an index (dwellings by micro-unit,
# households by dwelling, issues by household, changes by unit, dwelling or household,
# verifications by change), so a small subtree reads only its own rows.
_PER_UNIT = """
    units AS MATERIALIZED (
        SELECT u.id, u.code, u.name, g.code AS grid_code
          FROM people_microunit u JOIN geogrid_grid g ON g.id = u.grid_id
         WHERE {units}
    ), ud AS MATERIALIZED (
        SELECT d.id, d.micro_unit_id AS unit, d.occupancy_verified_at
          FROM people_dwelling d JOIN units ON units.id = d.micro_unit_id
    ), uh AS MATERIALIZED (
        SELECT h.id, ud.unit, h.status, h.profile_verified_at
          FROM {households}
    ), dw AS (
        SELECT unit, count(*) AS dwellings,
               count(*) FILTER (WHERE occupancy_verified_at >= %(occupancy_from)s
                                  AND occupancy_verified_at < %(cutoff)s) AS occupancy
          FROM ud GROUP BY 1
    ), stale AS (
        SELECT DISTINCT i.household_id
          FROM people_householdissue i
         WHERE i.status = 'open' AND i.appeal_id IS NULL AND i.raised_at < %(issues_before)s
    ), hh AS (
        SELECT uh.unit, count(*) AS households,
               count(*) FILTER (WHERE uh.profile_verified_at >= %(profile_from)s
                                  AND uh.profile_verified_at < %(cutoff)s) AS profile,
               count(*) FILTER (WHERE s.household_id IS NULL) AS issues
          FROM uh LEFT JOIN stale s ON s.household_id = uh.id
         WHERE uh.status = 'active'
         GROUP BY 1
    ), considered AS (
        SELECT units.id AS unit, c.id, c.reported_at
          FROM people_changeevent c JOIN units ON units.id = c.micro_unit_id
         WHERE {changes}
        UNION ALL
        SELECT ud.unit, c.id, c.reported_at
          FROM people_changeevent c JOIN ud ON ud.id = c.dwelling_id
         WHERE c.micro_unit_id IS NULL AND {changes}
        UNION ALL
        SELECT uh.unit, c.id, c.reported_at
          FROM people_changeevent c JOIN uh ON uh.id = c.household_id
         WHERE c.micro_unit_id IS NULL AND c.dwelling_id IS NULL AND {changes}
    ), judged AS (
        SELECT k.unit, v.id IS NOT NULL AS verified,
               v.id IS NOT NULL
                 AND (v.verified_at AT TIME ZONE %(tz)s)::date
                     - (k.reported_at AT TIME ZONE %(tz)s)::date <= %(changes_days)s AS in_time,
               k.reported_at < %(changes_due_before)s AS due
          FROM considered k
          LEFT JOIN people_changeverification v
                 ON v.change_id = k.id AND v.verified_at < %(cutoff)s
    ), chg AS (
        SELECT unit,
               count(*) FILTER (WHERE in_time) AS changes,
               count(*) FILTER (WHERE in_time OR due) AS changes_of,
               count(*) FILTER (WHERE NOT verified AND NOT due) AS pending,
               count(*) FILTER (WHERE NOT verified AND due) AS overdue
          FROM judged GROUP BY 1
    ), per_unit AS (
        SELECT units.id, units.code, units.name, units.grid_code,
               coalesce(dw.dwellings, 0) AS dwellings, coalesce(dw.occupancy, 0) AS occupancy,
               coalesce(hh.households, 0) AS households, coalesce(hh.profile, 0) AS profile,
               coalesce(hh.issues, 0) AS issues, coalesce(chg.changes, 0) AS changes,
               coalesce(chg.changes_of, 0) AS changes_of, coalesce(chg.pending, 0) AS pending,
               coalesce(chg.overdue, 0) AS overdue
          FROM units
          LEFT JOIN dw ON dw.unit = units.id
          LEFT JOIN hh ON hh.unit = units.id
          LEFT JOIN chg ON chg.unit = units.id
    )""".replace("{changes}", """c.kind <> ALL(%(not_changes)s) AND c.source <> 'system'
           AND c.reported_at >= %(changes_from)s AND c.reported_at < %(cutoff)s""")
# How the units' households are reached. Below a district: an index probe per dwelling (LATERAL;
# OFFSET 0 keeps it from being flattened) — the planner cannot see how few dwellings a subtree
# has and would hash every household of the city. A district holds a good part of the city,
# and there hashing is cheaper (docs/benchmarks.md, "Household layer").
_PROBE = """ud CROSS JOIN LATERAL (
                SELECT h.id, h.status, h.profile_verified_at
                  FROM people_household h WHERE h.dwelling_id = ud.id OFFSET 0) h"""
_HASH = "people_household h JOIN ud ON ud.id = h.dwelling_id"


def _per_unit(units: str, *, large: bool = False) -> str:
    return _PER_UNIT.format(units=units, households=_HASH if large else _PROBE)
_SUMS = """count(*), sum(dwellings), sum(occupancy), sum(households), sum(profile), sum(issues),
           sum(changes), sum(changes_of), sum(pending), sum(overdue)"""


def _fetch(sql: str, params: Mapping[str, Any] | list[Any]) -> list[tuple]:
    """Run a read with two planner settings for this transaction only: JIT off (the estimates
    for these joins are high and compiling costs more than the query, as in
    layers.analytics.snapshot.fetch), and random_page_cost 1.1 — the register is read through
    its indexes from a subtree, and with the default 4 the planner hashes whole tables instead
    (a community's ledger at city scale: 1.2 s → 0.3 s; docs/benchmarks.md)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        cursor.execute(sql, params)
        return cursor.fetchall()


@dataclass(frozen=True)
class LedgerRow:
    kind: str  # "grid" or "micro_unit"
    code: str
    name: str
    figures: Figures
    id: int | None = None  # the micro-unit's id
    level: int | None = None  # the grid's level


@dataclass(frozen=True)
class GridLedger:
    grid: Grid
    as_of: dt.date
    days: LedgerDays
    figures: Figures
    rows: list[LedgerRow] = field(default_factory=list)


def grid_ledger(grid: Grid, as_of: dt.date | None = None,
                days: LedgerDays | None = None) -> GridLedger:
    """The grid's figures (all units in its subtree) and its children's — or, for a micro-grid,
    its micro-units' — in one query (GROUPING SETS: one row per child and the total)."""
    as_of = as_of or timezone.localdate()
    days = days or ledger_days()
    params = {**_bounds(as_of, days), "prefix": grid.code + "%"}
    micro = grid.level >= MICRO_GRID_LEVEL
    # A literal, not a parameter: GROUPING() must repeat the GROUP BY expression exactly.
    key = "code" if micro else f"left(grid_code, {int(code_lengths()[grid.level + 1])})"
    sql = f"""
        WITH {_per_unit("g.code LIKE %(prefix)s", large=grid.level <= 1)}
        SELECT GROUPING({key}) = 1 AS total, {key} AS key, {_SUMS}
          FROM per_unit GROUP BY GROUPING SETS (({key}), ())"""
    found: dict[str, Figures] = {}
    total = Figures()
    for is_total, key_value, *numbers in _fetch(sql, params):
        if is_total:
            total = Figures.from_row(numbers)
        else:
            found[key_value] = Figures.from_row(numbers)
    rows: list[LedgerRow]
    if micro:
        rows = [LedgerRow("micro_unit", code, name, found.get(code, Figures(units=1)), id=pk)
                for pk, code, name in MicroUnit.objects.filter(grid__code=grid.code)
                .order_by("code").values_list("id", "code", "name")]
    else:
        rows = [LedgerRow("grid", code, name, found.get(code, Figures()), level=level)
                for code, name, level in Grid.objects.current().filter(parent=grid)
                .order_by("code").values_list("code", "name", "level")]
    return GridLedger(grid=grid, as_of=as_of, days=days, figures=total, rows=rows)


def unit_figures(unit: MicroUnit, as_of: dt.date | None = None,
                 days: LedgerDays | None = None) -> Figures:
    as_of = as_of or timezone.localdate()
    params = {**_bounds(as_of, days or ledger_days()), "unit": unit.pk}
    sql = f"WITH {_per_unit('u.id = %(unit)s')} SELECT {_SUMS} FROM per_unit"
    rows = _fetch(sql, params)
    return Figures.from_row(rows[0]) if rows else Figures()


def rollup_per_grid(grid: Grid, as_of: dt.date | None = None,
                    days: LedgerDays | None = None) -> dict[str, Figures]:
    """The alternative the benchmark measures: one query per child grid (same figures as
    `grid_ledger(...).rows`, for grids above the micro-grid level)."""
    as_of = as_of or timezone.localdate()
    bounds = _bounds(as_of, days or ledger_days())
    sql = f"WITH {_per_unit('g.code LIKE %(prefix)s')} SELECT {_SUMS} FROM per_unit"
    out = {}
    for code in Grid.objects.current().filter(parent=grid).order_by("code").values_list(
            "code", flat=True):
        out[code] = Figures.from_row(_fetch(sql, {**bounds, "prefix": code + "%"})[0])
    return out


# --- 重点关注 ------------------------------------------------------------------------------------
# What the list shows of a household: the micro-unit leader's fields (layers.people.access
# UNIT_FIELDS) — no identifiers. The access log names these.
FOCUS_FIELDS = ("room", "head_name", "size", "tags", "contact_phone")


def focus_tags() -> list[str]:
    return [str(t) for t in settings.GEOGRID.get("FOCUS_TAGS", ())]


def focus_list(unit: MicroUnit) -> list[dict[str, Any]]:
    """The unit's active households with a focus tag, by building, unit and room: room, head's
    name, size (open residences), tags and the masked contact phone."""
    sql = """
        SELECT h.id, b.address, d.unit_no, d.room_no, coalesce(p.name, ''),
               (SELECT count(*) FROM people_residence m
                 WHERE m.household_id = h.id AND m.valid_to IS NULL) AS size,
               h.tags, h.contact_phone_masked
          FROM people_household h
          JOIN people_dwelling d ON d.id = h.dwelling_id
          JOIN layers_building b ON b.id = d.building_id
          LEFT JOIN people_residence r
                 ON r.household_id = h.id AND r.valid_to IS NULL AND r.relation = 'head'
          LEFT JOIN people_person p ON p.id = r.person_id
         WHERE d.micro_unit_id = %s AND h.status = 'active' AND h.tags && %s::varchar[]
         ORDER BY b.id, d.unit_no, d.room_no, h.id"""
    out = []
    for pk, address, unit_no, room_no, head, size, tags, phone in _fetch(
            sql, [unit.pk, focus_tags()]):
        room = f"{unit_no}单元{room_no}室" if unit_no else f"{room_no}室"
        out.append({"household": pk, "building": address, "room": room, "head_name": head,
                    "size": int(size), "tags": list(tags), "contact_phone": phone})
    return out


# --- cached sums ---------------------------------------------------------------------------------
BASE_CACHE_SECONDS = 60


def _register_mark() -> tuple:
    """Changes whenever a household, a change-log row, a building or a grid version is added —
    every move in or out, death, verification and boundary edit adds one — at the cost of four
    index look-ups."""
    return tuple(_fetch("""SELECT (SELECT max(id) FROM people_household),
                                  (SELECT max(id) FROM people_changeevent),
                                  (SELECT max(id) FROM layers_building),
                                  (SELECT max(id) FROM geogrid_grid)""", [])[0])


# --- counts per grid ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Counts:
    households: int = 0
    residents: int = 0
    focus_households: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"households": self.households, "residents": self.residents,
                "focus_households": self.focus_households}


def household_counts(grid: Grid, level: int) -> tuple[Counts, list[tuple[Grid, Counts]]]:
    """Active households, residents (open residences of active households, except those
    registered here who live elsewhere: 户在人不在) and focus households in `grid`'s subtree,
    by the building's micro-grid, per current grid of `level` in the subtree (`level` ≥ the
    grid's level; equal gives the grid's own row). One query, cached like `households_base`
    (a district's counts read a third of a city's register: seconds)."""
    key = (f"people:counts:{grid.code}:{level}:{','.join(focus_tags())}:"
           + "-".join(str(n or 0) for n in _register_mark()))
    found: dict[str, Counts] | None = cache.get(key)
    if found is None:
        found = _household_counts(grid, level)
        cache.set(key, found, BASE_CACHE_SECONDS)
    grids = (Grid.objects.current().filter(code__startswith=grid.code, level=level)
             .order_by("code").only("code", "name", "level"))
    return found.get("", Counts()), [(g, found.get(g.code, Counts())) for g in grids]


def _household_counts(grid: Grid, level: int) -> dict[str, Counts]:
    """{code: Counts} per grid of `level`, and the total under ""."""
    length = code_lengths()[level]
    sql = """
        WITH hh AS MATERIALIZED (
            SELECT h.id, left(bg.code, %(len)s) AS key, h.tags && %(focus)s::varchar[] AS focus
              FROM geogrid_grid bg
              JOIN layers_building b ON b.grid_id = bg.id
              JOIN people_dwelling d ON d.building_id = b.id
              JOIN people_household h ON h.dwelling_id = d.id
             WHERE bg.code LIKE %(prefix)s AND h.status = 'active'
        ), res AS (
            SELECT hh.key, count(*) AS n
              FROM people_residence r JOIN hh ON hh.id = r.household_id
             WHERE r.valid_to IS NULL AND r.presence <> 'absent'
             GROUP BY 1
        ), per_key AS (
            SELECT hh.key, count(*) AS households, count(*) FILTER (WHERE hh.focus) AS focus
              FROM hh GROUP BY 1
        )
        SELECT GROUPING(p.key) = 1, p.key, coalesce(sum(p.households), 0),
               coalesce(sum(res.n), 0), coalesce(sum(p.focus), 0)
          FROM per_key p LEFT JOIN res ON res.key = p.key
         GROUP BY GROUPING SETS ((p.key), ())"""
    params = {"len": length, "focus": focus_tags(), "prefix": grid.code + "%"}
    return {"" if is_total else key: Counts(int(households), int(residents), int(focus))
            for is_total, key, households, residents, focus in _fetch(sql, params)}


def households_per_micro_grid(prefix: str | None = None) -> tuple[str, list[Any]]:
    """(sql, params) of the household base of "appeals per 100 households", per micro-grid (by
    building) in `prefix`'s subtree: the active households of the people layer where it has
    any household row there (of any status: a micro-grid whose households all moved out has 0),
    else the buildings' register figure (Building.households) — a deployment rolls the register
    out community by community, and a grid it has not reached yet keeps the estimate it had.
    Columns: code (the micro-grid's), households, from_people (bool)."""
    where = "mg.code LIKE %s" if prefix else "true"
    params = [prefix + "%"] * 2 if prefix else []
    sql = f"""
        SELECT mg.code,
               CASE WHEN p.grid_id IS NOT NULL THEN p.active
                    ELSE coalesce(bs.households, 0) END AS households,
               p.grid_id IS NOT NULL AS from_people
          FROM (SELECT b.grid_id, sum(b.households) AS households
                  FROM layers_building b JOIN geogrid_grid mg ON mg.id = b.grid_id
                 WHERE {where} GROUP BY 1) bs
          FULL JOIN (SELECT b.grid_id, count(*) FILTER (WHERE h.status = 'active') AS active
                       FROM people_household h
                       JOIN people_dwelling d ON d.id = h.dwelling_id
                       JOIN layers_building b ON b.id = d.building_id
                       JOIN geogrid_grid mg ON mg.id = b.grid_id
                      WHERE {where} GROUP BY 1) p USING (grid_id)
          JOIN geogrid_grid mg ON mg.id = grid_id"""
    return sql, params


def households_base(level: int, parent: str | None = None) -> dict[str, tuple[int, str]]:
    """{code of each grid of `level` (in `parent`'s subtree) that has households: (households,
    source)} — `households_per_micro_grid` summed up to the level; source is "people",
    "buildings" or "mixed" (some micro-grids each). At city scale the sum reads a district's
    households (about a second), and the appeal choropleth asks every 15 s, so it is cached
    for BASE_CACHE_SECONDS under a key that changes with every household, change-log row,
    building or grid version added (`_register_mark`): a move-out shows at once, an edit that
    adds no row (a building's estimate in the admin) within a minute."""
    mark = "-".join(str(n or 0) for n in _register_mark())
    key = f"people:households-base:{level}:{parent or ''}:{mark}"
    found = cache.get(key)
    if found is not None:
        return found
    inner, params = households_per_micro_grid(parent)
    length = int(code_lengths()[level])
    rows = _fetch(f"""
        SELECT left(code, {length}), sum(households),
               CASE WHEN bool_and(from_people) THEN 'people'
                    WHEN bool_or(from_people) THEN 'mixed' ELSE 'buildings' END
          FROM ({inner}) per_micro_grid GROUP BY 1""", params)
    found = {code: (int(households), source) for code, households, source in rows}
    cache.set(key, found, BASE_CACHE_SECONDS)
    return found
