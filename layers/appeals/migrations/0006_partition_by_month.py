"""The appeals (by reported_at) and their timeline (by at) become monthly partitioned tables
(layers/appeals/partitions.py, docs/partitioning.md).

Forward, for each table: note its indexes, foreign keys and sequence from the catalog; rename it
away; create the partitioned table LIKE it (defaults, identity, generated column, checks);
create a DEFAULT partition and one partition per month the rows fall in; move the rows with one
INSERT … SELECT; drop the old table; add the primary key (id, key), every index it had (as
partitioned indexes, same names) and its foreign keys (same names); move the sequence on. The
unique keys without the partition key (tracking, public id, (channel, source_ref)) go to the
side table layers_appeal_key, kept by triggers, under their old names. Then the references to
both tables become constraint triggers, the timeline keeps its immutability trigger, and the
timeline, photos and supports get their appeal's district code.

Reversible: backward does the same the other way (one plain table each, the unique keys back on
it, the side table and triggers dropped); 0005's reversal adds the foreign keys back.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations

from layers.appeals import partitions as P

KEY_SQL = """
CREATE TABLE layers_appeal_key (
    appeal_id bigint PRIMARY KEY,
    reported_at timestamptz NOT NULL,
    district_code varchar(16) NOT NULL,
    tracking varchar(32) NOT NULL CONSTRAINT layers_appeal_tracking_key UNIQUE,
    public_id uuid NOT NULL CONSTRAINT layers_appeal_public_id_f9d48e4b_uniq UNIQUE,
    channel varchar(16) NOT NULL,
    source_ref varchar(64) NOT NULL
);
COMMENT ON TABLE layers_appeal_key IS 'one row per appeal (archived months too): the unique keys '
    'a partitioned layers_appeal cannot hold; kept by triggers on layers_appeal';
CREATE UNIQUE INDEX appeal_unique_source_ref ON layers_appeal_key (channel, source_ref)
    WHERE NOT source_ref = '';
INSERT INTO layers_appeal_key
    SELECT id, reported_at, district_code, tracking, public_id, channel, source_ref
      FROM layers_appeal;
"""
KEY_TRIGGERS_SQL = """
CREATE OR REPLACE FUNCTION layers_appeal_key_sync() RETURNS trigger AS $$
BEGIN
    -- Set-based (transition tables): a COPY of a million appeals is one INSERT here.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO layers_appeal_key
            SELECT id, reported_at, district_code, tracking, public_id, channel, source_ref
              FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE layers_appeal_key k
           SET reported_at = n.reported_at, district_code = n.district_code,
               tracking = n.tracking, public_id = n.public_id, channel = n.channel,
               source_ref = n.source_ref
          FROM new_rows n
         WHERE k.appeal_id = n.id
           AND (k.reported_at, k.district_code, k.tracking, k.public_id, k.channel, k.source_ref)
               IS DISTINCT FROM
               (n.reported_at, n.district_code, n.tracking, n.public_id, n.channel, n.source_ref);
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM layers_appeal_key k USING old_rows o WHERE k.appeal_id = o.id;
    ELSE
        TRUNCATE layers_appeal_key;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER layers_appeal_key_insert AFTER INSERT ON layers_appeal
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION layers_appeal_key_sync();
CREATE TRIGGER layers_appeal_key_update AFTER UPDATE ON layers_appeal
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION layers_appeal_key_sync();
CREATE TRIGGER layers_appeal_key_delete AFTER DELETE ON layers_appeal
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION layers_appeal_key_sync();
CREATE TRIGGER layers_appeal_key_truncate AFTER TRUNCATE ON layers_appeal
    FOR EACH STATEMENT EXECUTE FUNCTION layers_appeal_key_sync();
"""
UNKEY_SQL = """
DROP TABLE layers_appeal_key;
DROP FUNCTION layers_appeal_key_sync();
"""
# Lookups the unique indexes served, now plain (per-partition) indexes.
LOOKUP_INDEXES = {
    "layers_appeal_public_id_idx": "CREATE INDEX layers_appeal_public_id_idx ON layers_appeal"
                                   " (public_id)",
    "appeal_source_ref": "CREATE INDEX appeal_source_ref ON layers_appeal (channel, source_ref)"
                         " WHERE NOT source_ref = ''",
}
UNIQUE_BACK = [
    "ALTER TABLE layers_appeal ADD CONSTRAINT layers_appeal_tracking_key UNIQUE (tracking)",
    "ALTER TABLE layers_appeal ADD CONSTRAINT layers_appeal_public_id_f9d48e4b_uniq"
    " UNIQUE (public_id)",
    "CREATE UNIQUE INDEX appeal_unique_source_ref ON layers_appeal (channel, source_ref)"
    " WHERE NOT source_ref = ''",
]
IMMUTABLE = ("CREATE TRIGGER layers_appealevent_no_update BEFORE UPDATE ON layers_appealevent"
             " FOR EACH ROW EXECUTE FUNCTION layers_appealevent_immutable()")
DISTRICT_FUNCTION = """
CREATE OR REPLACE FUNCTION layers_appeal_child_district() RETURNS trigger AS $$
BEGIN
    -- Not given (NULL, or the ORM's ''): the appeal's. The side table answers with one probe;
    -- an appeal written by the same statement (a CTE) is not visible yet: then the writer
    -- must give the code (layers.appeals.intake_sql does).
    IF NEW.district_code IS NULL OR NEW.district_code = '' THEN
        NEW.district_code := coalesce(
            (SELECT district_code FROM layers_appeal_key WHERE appeal_id = NEW.appeal_id), '');
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
"""


def _all(cursor, sql, params=None):
    cursor.execute(sql, params)
    return cursor.fetchall()


def _convert(cursor, table: str, key: str, *, partition: bool, extra_select: dict | None = None,
             skip_indexes=frozenset()) -> None:
    """Rebuild `table` partitioned by month of `key` (partition=True) or plain (False)."""
    indexes = _all(cursor, """
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
         ORDER BY c.relname""", [table])
    fkeys = _all(cursor, """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname""", [table])
    seq = _all(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
    last, called = _all(cursor, f"SELECT last_value, is_called FROM {seq}")[0]
    old = f"{table}_old"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {old}")
    like = (f"LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED"
            " INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS")
    cursor.execute(f"CREATE TABLE {table} ({like})"
                   + (f" PARTITION BY RANGE ({key})" if partition else ""))
    if partition:
        cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        months = _all(cursor, f"SELECT DISTINCT date_trunc('month', {key} AT TIME ZONE %s)"
                              f" FROM {old}", [settings.TIME_ZONE])
        now = P.month_of(dt.datetime.now(dt.UTC))
        wanted = {(m.year, m.month) for (m,) in months} | set(
            P.months_between(now, P.next_month(now, P.MONTHS_AHEAD)))
        for month in sorted(wanted):
            lo, hi = P.bounds(month)
            cursor.execute(f"CREATE TABLE {P.partition_name(table, month)} PARTITION OF {table}"
                           " FOR VALUES FROM (%s) TO (%s)", [lo, hi])
    cols = [c for (c,) in _all(cursor, """
        SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass
           AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum""", [old])]
    select = [(extra_select or {}).get(c, f"o.{c}") for c in cols]
    joins = (extra_select or {}).get("_join", "")
    cursor.execute(f"INSERT INTO {table} ({', '.join(cols)})"
                   f" SELECT {', '.join(select)} FROM {old} o {joins}")
    cursor.execute(f"DROP TABLE {old}")
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY "
                   + (f"(id, {key})" if partition else "(id)"))
    for name, definition in indexes:
        if name not in skip_indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    for name, definition in fkeys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    new_seq = _all(cursor, "SELECT pg_get_serial_sequence(%s, 'id')", [table])[0][0]
    cursor.execute(f"ALTER SEQUENCE {new_seq} RENAME TO {seq.split('.')[-1]}")
    cursor.execute(f"SELECT setval(%s::regclass, greatest(%s, (SELECT max(id) FROM {table})),"
                   " %s)",
                   [seq, last, called or bool(_all(cursor, f"SELECT 1 FROM {table} LIMIT 1"))])
    cursor.execute(f"ANALYZE {table}")


def forward(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    cursor.execute("LOCK TABLE layers_appeal, layers_appealevent IN ACCESS EXCLUSIVE MODE")
    # The unique keys move to the side table, under the same names (freed first).
    cursor.execute("ALTER TABLE layers_appeal DROP CONSTRAINT layers_appeal_tracking_key,"
                   " DROP CONSTRAINT layers_appeal_public_id_f9d48e4b_uniq")
    cursor.execute("DROP INDEX appeal_unique_source_ref")
    cursor.execute(KEY_SQL)
    _convert(cursor, "layers_appeal", "reported_at", partition=True)
    cursor.execute(KEY_TRIGGERS_SQL)
    for sql in LOOKUP_INDEXES.values():
        cursor.execute(sql)
    _convert(cursor, "layers_appealevent", "at", partition=True, extra_select={
        "district_code": "coalesce(k.district_code, '')",
        "_join": "LEFT JOIN layers_appeal_key k ON k.appeal_id = o.appeal_id"})
    cursor.execute(IMMUTABLE)
    cursor.execute(DISTRICT_FUNCTION)
    for table in P.DISTRICT_TABLES:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN district_code DROP DEFAULT")
        if table != "layers_appealevent":
            cursor.execute(f"UPDATE {table} c SET district_code = k.district_code"
                           " FROM layers_appeal_key k WHERE k.appeal_id = c.appeal_id")
        cursor.execute(f"CREATE TRIGGER {table}_district BEFORE INSERT ON {table}"
                       " FOR EACH ROW EXECUTE FUNCTION layers_appeal_child_district()")
    for install, _remove in P.reference_sqls():
        cursor.execute(install)


def backward(apps, schema_editor):
    cursor = schema_editor.connection.cursor()
    for _install, remove in P.reference_sqls():
        cursor.execute(remove)
    for table in P.DISTRICT_TABLES:
        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_district ON {table}")
    cursor.execute("DROP FUNCTION IF EXISTS layers_appeal_child_district()")
    cursor.execute("DROP TRIGGER IF EXISTS layers_appeal_key_insert ON layers_appeal;"
                   "DROP TRIGGER IF EXISTS layers_appeal_key_update ON layers_appeal;"
                   "DROP TRIGGER IF EXISTS layers_appeal_key_delete ON layers_appeal;"
                   "DROP TRIGGER IF EXISTS layers_appeal_key_truncate ON layers_appeal")
    # Rows of detached (archived) months are not brought back: attach them first.
    _convert(cursor, "layers_appeal", "reported_at", partition=False,
             skip_indexes=frozenset(LOOKUP_INDEXES))
    cursor.execute(UNKEY_SQL)
    for sql in UNIQUE_BACK:
        cursor.execute(sql)
    _convert(cursor, "layers_appealevent", "at", partition=False)
    cursor.execute(IMMUTABLE)
    # Back at 0005 the district columns have no trigger: a default keeps raw inserts (and the
    # models of older states) working until 0005's reversal drops them.
    for table in P.DISTRICT_TABLES:
        cursor.execute(f"ALTER TABLE {table} ALTER COLUMN district_code SET DEFAULT ''")


class Migration(migrations.Migration):

    dependencies = [
        ("appeals", "0005_reference_by_trigger"),
        ("care", "0002_reference_by_trigger"),
        ("deliberation", "0002_reference_by_trigger"),
        ("open311", "0002_reference_by_trigger"),
        ("people", "0002_reference_by_trigger"),
        ("whistles", "0003_reference_by_trigger"),
    ]

    operations = [migrations.RunPython(forward, backward)]
