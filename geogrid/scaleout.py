"""The sharding plan (docs/scale-out.md) as data, and its check against the live schema.

A province-wide GeoGrid would run on Citus: the appeal family distributed by district code and
co-located, the small shared tables (grid hierarchy, categories, users…) replicated to every node
as reference tables, the rest on the coordinator. Citus is not packaged for these machines, so the
plan cannot be run here; instead `plan_problems()` reads PostgreSQL's catalog and reports whatever
Citus would refuse, and a test keeps the schema inside the plan as it evolves:

- every table is classified (a new table must be placed in the plan);
- every distributed table has a NOT NULL `district_code` (co-location needs one column of one
  type);
- a foreign key may go distributed → reference, local → reference/local, reference → reference,
  and distributed → distributed only when both sides include the district code; never into a
  distributed table from anything else, never from a distributed table to a local one;
- a unique constraint on a distributed table includes the district code, except those the plan
  lists with the change they need (UNIQUE_EXCEPTIONS).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Placement(StrEnum):
    DISTRIBUTED = "distributed"  # hash-distributed by district_code, one co-location group
    REFERENCE = "reference"  # replicated to every worker
    LOCAL = "local"  # stays on the coordinator


DISTRIBUTION_COLUMN = "district_code"

# The appeal family: the tables that grow with the number of appeals (tens of millions a year in
# a province) and are always read by district or by the appeal.
DISTRIBUTED = {
    "layers_appeal": "the appeals, partitioned by month inside each shard",
    "layers_appealevent": "the timeline, partitioned by month",
    "layers_appealphoto": "photos of an appeal and of its timeline rows",
    "layers_support": "residents' supports of an appeal",
    "layers_trackingsequence": "the daily tracking-number counter per district",
}

# Small, shared, read everywhere, written rarely: a copy on every worker so that joins with the
# distributed tables stay on the shard.
REFERENCE = {
    "geogrid_grid": "the five-level grid hierarchy with its polygons (~10⁵–10⁶ rows)",
    "geogrid_staffassignment": "who works in which grid",
    "geogrid_holidayschedule": "the working calendar",
    "geogrid_workingdayoverride": "the working calendar's days",
    "layers_category": "appeal categories",
    "layers_department": "departments",
    "layers_department_members": "department members",
    "layers_building": "buildings (appeals point at them; a later step distributes them)",
    "auth_user": "users (every table points at them)",
    "auth_group": "groups",
    "auth_group_permissions": "group permissions",
    "auth_permission": "permissions",
    "auth_user_groups": "user groups",
    "auth_user_user_permissions": "user permissions",
    "django_content_type": "content types (permissions point at them)",
    "spatial_ref_sys": "PostGIS' coordinate systems (Citus creates it on every node)",
}

# Everything else stays on the coordinator: low volume (whistles, proposals, wishes, the shop),
# per-person data read one household at a time (people, care, points), and the site's own
# bookkeeping. Patterns are regular expressions matched against the whole name.
LOCAL = {
    r"django_(admin_log|migrations|session)": "Django's own bookkeeping",
    r"axes_\w+": "login throttling",
    r"geogrid_(accesslog|apiclient|ratecounter)": "audit log, API keys, rate counters",
    # The tile/heat read model: derived, rebuilt per month from the shards, served by the
    # coordinator's replicas — a heat-map tile must not fan out to every shard.
    r"analytics_\w+": "analytics facts, day cubes, their bookkeeping and hotspots",
    r"layers_(notification|reassignment)": "per-user notices; re-assignment log",
    "layers_appeal_key": "province-wide keys of an appeal (tracking, public id, hotline ref.)",
    r"open311_\w+": "Open311 update log",
    r"whistles_\w+": "吹哨报到 (hundreds a year per county)",
    r"deliberation_\w+": "协商议事",
    r"people_\w+": "households and residents (step 3 of the plan distributes them)",
    r"care_\w+": "care visits",
    r"volunteering_\w+": "volunteers and the points ledger",
    r"shop_\w+": "the points shop",
    r"wishes_\w+": "micro-wishes",
    r"placards_\w+": "door placards",
    r"batch_\w+": "batch job bookkeeping (Dask)",
}

# Unique keys of distributed tables without the district code, by table (a pattern) and
# columns, each with the change the move to Citus makes. Any other such key fails the check.
UNIQUE_EXCEPTIONS: dict[tuple[str, tuple[str, ...]], str] = {
    ("layers_appeal", ("id", "reported_at")): "→ (district_code, id, reported_at)",
    ("layers_appealevent", ("id", "at")): "→ (district_code, id, at)",
    ("layers_appealphoto", ("id",)): "→ (district_code, id)",
    ("layers_support", ("id",)): "→ (district_code, id)",
    ("layers_trackingsequence", ("id",)): "→ (district_code, id)",
}


def placement_of(table: str) -> Placement | None:
    for placement, names in ((Placement.DISTRIBUTED, DISTRIBUTED),
                             (Placement.REFERENCE, REFERENCE), (Placement.LOCAL, LOCAL)):
        if any(re.fullmatch(pattern, table) for pattern in names):
            return placement
    return None


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


# Top-level tables only: a partition follows its parent (it carries the parent's constraints).
TABLES_SQL = """
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    ORDER BY 1
"""
DISTRICT_COLUMN_SQL = """
    SELECT c.relname, a.attnotnull, format_type(a.atttypid, a.atttypmod)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %s AND NOT a.attisdropped
    WHERE n.nspname = current_schema()
"""
FOREIGN_KEYS_SQL = """
    SELECT k.conname, c.relname,
           array(SELECT attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute ON attrelid = k.conrelid AND attnum = u.n ORDER BY i),
           t.relname,
           array(SELECT attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
                 JOIN pg_attribute ON attrelid = k.confrelid AND attnum = u.n ORDER BY i)
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_class t ON t.oid = k.confrelid
    WHERE k.contype = 'f' AND k.conparentid = 0 AND n.nspname = current_schema()
      AND NOT c.relispartition
"""
# Unique indexes (which include the constraints' and the primary keys') with their columns;
# an expression column shows as NULL.
UNIQUE_INDEXES_SQL = """
    SELECT c.relname, i.relname,
           array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY u(n, k)
                 LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.n
                 ORDER BY k)
    FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE x.indisunique AND n.nspname = current_schema() AND NOT c.relispartition
"""


def plan_problems(cursor) -> list[str]:
    """What Citus would refuse, or what the plan does not cover, in the current schema."""
    tables = current_tables(cursor)
    placements = {table: placement_of(table) for table in tables}
    problems = [f"{table}: not in the sharding plan (geogrid/scaleout.py, docs/scale-out.md)"
                for table, placement in placements.items() if placement is None]

    cursor.execute(DISTRICT_COLUMN_SQL, [DISTRIBUTION_COLUMN])
    district = {name: (not_null, kind) for name, not_null, kind in cursor.fetchall()}
    distributed = [t for t, p in placements.items() if p is Placement.DISTRIBUTED]
    kinds = set()
    for table in distributed:
        if table not in district:
            problems.append(f"{table}: distributed but has no {DISTRIBUTION_COLUMN}")
            continue
        not_null, kind = district[table]
        kinds.add(kind)
        if not not_null:
            problems.append(f"{table}: {DISTRIBUTION_COLUMN} may be NULL")
    if len(kinds) > 1:
        problems.append(f"{DISTRIBUTION_COLUMN} has different types ({sorted(kinds)}): "
                        "the distributed tables could not be co-located")

    cursor.execute(FOREIGN_KEYS_SQL)
    for row in cursor.fetchall():
        problem = foreign_key_problem(ForeignKey(row[0], row[1], tuple(row[2]), row[3],
                                                 tuple(row[4])), placements)
        if problem:
            problems.append(problem)

    cursor.execute(UNIQUE_INDEXES_SQL)
    for table, index, columns in cursor.fetchall():
        if (placements.get(table) is Placement.DISTRIBUTED
                and DISTRIBUTION_COLUMN not in columns
                and not any(re.fullmatch(pattern, table) and tuple(columns) == planned
                            for pattern, planned in UNIQUE_EXCEPTIONS)):
            problems.append(f"{table}.{index}: unique without {DISTRIBUTION_COLUMN} "
                            "(Citus enforces uniqueness only within a shard)")
    return problems


def foreign_key_problem(key: ForeignKey, placements: dict[str, Placement | None]) -> str | None:
    source, target = placements.get(key.table), placements.get(key.target)
    if source is None or target is None:
        return None  # reported as unclassified already
    what = f"{key.table}.{key.name} → {key.target}"
    if target is Placement.DISTRIBUTED:
        if source is not Placement.DISTRIBUTED:
            return f"{what}: a {source} table cannot reference a distributed one"
        if (DISTRIBUTION_COLUMN not in key.columns
                or DISTRIBUTION_COLUMN not in key.target_columns):
            return f"{what}: between distributed tables a key must include {DISTRIBUTION_COLUMN}"
        return None
    if target is Placement.LOCAL and source is not Placement.LOCAL:
        return f"{what}: a {source} table cannot reference a table left on the coordinator"
    return None


def citus_statements(tables: Iterable[str]) -> list[str]:
    """The calls that would distribute these tables (the catalog's) on Citus: reference tables
    first (distributed ones point at them), then the appeal family co-located with the appeals."""
    tables = sorted(tables)
    reference = [t for t in tables if placement_of(t) is Placement.REFERENCE
                 and t != "spatial_ref_sys"]
    distributed = [t for t in tables if placement_of(t) is Placement.DISTRIBUTED]
    first = "layers_appeal"
    statements = [f"SELECT create_reference_table('{table}');" for table in reference]
    if first in distributed:
        statements.append(
            f"SELECT create_distributed_table('{first}', '{DISTRIBUTION_COLUMN}');")
    statements += [
        f"SELECT create_distributed_table('{table}', '{DISTRIBUTION_COLUMN}', "
        f"colocate_with => '{first}');"
        for table in distributed if table != first
    ]
    return statements


def current_tables(cursor) -> list[str]:
    cursor.execute(TABLES_SQL)
    return [row[0] for row in cursor.fetchall()]
