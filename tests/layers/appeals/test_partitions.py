"""The appeals and their timeline are partitioned by month (layers/appeals/partitions.py,
docs/partitioning.md): rows land in their month, a month-filtered query reads one partition,
the unique keys and the references that partitioning takes away from PostgreSQL's constraints
are kept by triggers (and refuse what the constraints refused), the timeline stays immutable in
every partition, and months can be created, listed, detached and attached back."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import ForeignKey

from layers.appeals import partitions as P
from layers.appeals.categories import load_categories
from layers.appeals.models import Appeal, AppealEvent, AppealPhoto, Support
from tests.layers.appeals.workflow_fixtures import A, at, build_city, new_appeal

pytestmark = pytest.mark.django_db

# Every index layers_appeal had before it was partitioned (the catalog of migration 0005's
# schema), minus the unique ones, which moved to layers_appeal_key under the same names.
OLD_APPEAL_INDEXES = {
    "appeal_clock_due", "appeal_grid_status", "appeal_open_cat", "appeal_unlocated",
    "layers_appeal_assigned_grid_id_0f3d7990", "layers_appeal_building_id_922557ef",
    "layers_appeal_category_id_1f939313", "layers_appeal_department_id_d7e6e5e5",
    "layers_appeal_district_code_f115d360", "layers_appeal_district_code_f115d360_like",
    "layers_appeal_grid_id_7a939e40", "layers_appeal_location_80cdd4c2_id",
    "layers_appeal_merged_into_id_0ef4cf04", "layers_appeal_reporter_id_0bc783e5",
    "layers_appeal_tracking_daa5a674_like",
}
OLD_APPEAL_UNIQUE = {"layers_appeal_tracking_key", "layers_appeal_public_id_f9d48e4b_uniq",
                     "appeal_unique_source_ref"}
OLD_EVENT_INDEXES = {"layers_appealevent_actor_id_cf91c626",
                     "layers_appealevent_appeal_id_2e4db4de"}
FAR = (2031, 5)  # a month no migration or sweep creates


@pytest.fixture
def city():
    return build_city()


def rows(sql: str, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def indexes_of(table: str) -> set[str]:
    return {n for (n,) in rows("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])}


def partition_of(appeal: Appeal) -> str:
    return rows("SELECT tableoid::regclass::text FROM layers_appeal WHERE id = %s",
                [appeal.pk])[0][0]


def check_now() -> None:
    """Run the deferred checks as COMMIT would (the test's transaction never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


# --- the schema ----------------------------------------------------------------------------------


def test_both_tables_are_partitioned_by_month_with_a_default_and_the_composite_key():
    for table, key in P.TABLES.items():
        (strategy, columns), = rows(
            "SELECT p.partstrat, array_to_string(array(SELECT a.attname FROM"
            " unnest(p.partattrs) k JOIN pg_attribute a ON a.attrelid = p.partrelid"
            " AND a.attnum = k), ',') FROM pg_partitioned_table p"
            " WHERE p.partrelid = %s::regclass", [table])
        assert (strategy, columns) == ("r", key)
        assert rows("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = %s",
                    [f"{table}_default"]) == [("DEFAULT",)]
        (pk,), = rows("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                      " WHERE conrelid = %s::regclass AND contype = 'p'", [table])
        assert pk == f"PRIMARY KEY (id, {key})"
        this = P.month_of(dt.datetime.now(dt.UTC))
        for month in P.months_between(this, P.next_month(this, P.MONTHS_AHEAD)):
            assert rows("SELECT to_regclass(%s)", [P.partition_name(table, month)])[0][0]


def test_every_index_the_tables_had_is_a_partitioned_index_on_every_partition():
    assert indexes_of("layers_appeal") >= OLD_APPEAL_INDEXES
    assert indexes_of("layers_appealevent") >= OLD_EVENT_INDEXES
    assert not OLD_APPEAL_UNIQUE & indexes_of("layers_appeal")
    assert indexes_of(P.KEY_TABLE) >= OLD_APPEAL_UNIQUE
    for table in P.TABLES:
        parents = rows("SELECT count(*) FROM pg_index WHERE indrelid = %s::regclass", [table])
        for (part,) in rows("SELECT inhrelid::regclass::text FROM pg_inherits"
                            " WHERE inhparent = %s::regclass", [table]):
            # Each partition has one attached child of each partitioned index.
            assert rows("SELECT count(*) FROM pg_index i JOIN pg_inherits h"
                        " ON h.inhrelid = i.indexrelid WHERE i.indrelid = %s::regclass",
                        [part]) == parents


def test_the_identity_sequence_keeps_ids_unique_over_the_partitions(city):
    P.ensure([FAR])
    now_appeal, _ = new_appeal(A)
    far = Appeal.objects.create(**_fields(now_appeal, "FAR-1", at(2031, 5, 3, 10)))
    assert far.pk > now_appeal.pk
    assert partition_of(far) == "layers_appeal_p203105"
    assert partition_of(now_appeal) == P.partition_name(
        "layers_appeal", P.month_of(now_appeal.reported_at))


def _fields(appeal: Appeal, tracking: str, reported_at: dt.datetime, **extra) -> dict:
    return {"tracking": tracking, "district_code": appeal.district_code,
            "category_id": appeal.category_id, "channel": "mobile",
            "assignment": "unlocated", "reported_at": reported_at, **extra}


def test_month_boundaries_are_local_midnights():
    lo, hi = P.bounds((2025, 6))
    assert lo == dt.datetime(2025, 5, 31, 16, tzinfo=dt.UTC)
    assert hi == dt.datetime(2025, 6, 30, 16, tzinfo=dt.UTC)
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert P.month_of(dt.datetime(2025, 5, 31, 16, 30, tzinfo=dt.UTC)) == (2025, 6)


def test_a_month_filtered_query_reads_one_partition(city):
    P.ensure([FAR, (2031, 6)])
    lo, hi = P.bounds(FAR)
    plan = rows("EXPLAIN (FORMAT JSON) SELECT count(*) FROM layers_appeal"
                " WHERE reported_at >= %s AND reported_at < %s", [lo, hi])[0][0]
    text = json.dumps(plan)
    touched = {p for p in P.list_partitions(count=False) if f'"{p.name}"' in text}
    assert [p.name for p in touched] == ["layers_appeal_p203105"]
    # The same through the ORM, as the statistics and the dashboard filter.
    sql, params = Appeal.objects.filter(reported_at__gte=lo, reported_at__lt=hi).query \
        .sql_with_params()
    plan = rows(f"EXPLAIN (FORMAT JSON) {sql}", params)[0][0]
    assert "layers_appeal_p203105" in json.dumps(plan)
    assert "layers_appeal_p203106" not in json.dumps(plan)
    assert "layers_appeal_default" not in json.dumps(plan)


# --- the unique keys ----------------------------------------------------------------------------


def test_a_duplicate_tracking_number_or_order_id_is_refused_across_months(city):
    P.ensure([FAR])
    appeal, _ = new_appeal(A)
    with pytest.raises(IntegrityError, match="layers_appeal_tracking_key"), \
            transaction.atomic():
        Appeal.objects.create(**_fields(appeal, appeal.tracking, at(2031, 5, 1, 9)))
    Appeal.objects.create(**_fields(appeal, "T-1", at(2031, 5, 1, 9), channel="hotline_12345",
                                    source_ref="ORDER-7"))
    with pytest.raises(IntegrityError, match="appeal_unique_source_ref"), transaction.atomic():
        Appeal.objects.create(**_fields(appeal, "T-2", appeal.reported_at,
                                        channel="hotline_12345", source_ref="ORDER-7"))
    with pytest.raises(IntegrityError, match="layers_appeal_public_id_f9d48e4b_uniq"), \
            transaction.atomic():
        Appeal.objects.create(**_fields(appeal, "T-3", at(2031, 5, 2, 9),
                                        public_id=appeal.public_id))
    # Empty order ids are not keys; the side table follows updates and deletes.
    Appeal.objects.create(**_fields(appeal, "T-4", at(2031, 5, 2, 9)))
    Appeal.objects.create(**_fields(appeal, "T-5", at(2031, 5, 2, 9)))
    Appeal.objects.filter(tracking="T-5").update(tracking="T-6")
    Appeal.objects.filter(tracking="T-4").delete()
    assert rows(f"SELECT count(*) FROM {P.KEY_TABLE}") == rows(
        "SELECT count(*) FROM layers_appeal")
    assert rows(f"SELECT tracking FROM {P.KEY_TABLE} WHERE tracking LIKE 'T-%%'"
                " ORDER BY 1") == [("T-1",), ("T-6",)]
    Appeal.objects.create(**_fields(appeal, "T-4", at(2031, 5, 2, 9)))  # free again


# --- references kept by triggers ----------------------------------------------------------------


def test_every_reference_to_the_partitioned_tables_is_trigger_kept_not_a_foreign_key():
    targets = {Appeal: "layers_appeal", AppealEvent: "layers_appealevent"}
    found = set()
    for model in apps.get_models():
        for field in model._meta.local_fields:
            if isinstance(field, ForeignKey) and field.related_model in targets:
                assert field.db_constraint is False, f"{model.__name__}.{field.name}"
                found.add((model._meta.db_table, field.column, targets[field.related_model]))
    assert found == set(P.REFERENCES)
    assert rows("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND confrelid IN"
                " ('layers_appeal'::regclass, 'layers_appealevent'::regclass)") == [(0,)]


@pytest.mark.parametrize("sql", [
    "INSERT INTO layers_support (appeal_id, client_key, at) VALUES (%s, 'k', now())",
    "INSERT INTO layers_appealevent (appeal_id, kind, at, data) VALUES (%s, 'warn', now(), '{}')",
    "INSERT INTO layers_appealphoto (appeal_id, image, thumbnail, content_type, width, height,"
    " size_bytes) VALUES (%s, 'x.jpg', 'y.jpg', 'image/jpeg', 1, 1, 1)",
])
def test_a_row_pointing_at_a_missing_appeal_is_refused_at_commit(city, sql):
    with connection.cursor() as cursor:
        cursor.execute(sql, [10**12])  # accepted for now: the check is deferred
        with pytest.raises(IntegrityError, match=r"violates foreign key constraint "
                                                 r"\"layers_\w+_appeal_id_fk\""):
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_deleting_a_referenced_appeal_is_refused(city):
    appeal, _ = new_appeal(A)
    Support.objects.create(appeal=appeal, client_key="k")
    check_now()  # the inserts' own checks, as their commit would
    with connection.cursor() as cursor, \
            pytest.raises(IntegrityError, match="is still referenced from table"):
        cursor.execute("DELETE FROM layers_appeal WHERE id = %s", [appeal.pk])


def test_the_orm_deletes_an_appeal_with_its_timeline_photos_and_supports(city):
    appeal, _ = new_appeal(A)
    Support.objects.create(appeal=appeal, client_key="k")
    event = appeal.events.first()
    AppealPhoto.objects.create(appeal=appeal, event=event, image="a.jpg", thumbnail="b.jpg",
                               content_type="image/jpeg", width=1, height=1, size_bytes=1)
    with connection.cursor() as cursor:  # the timeline refuses UPDATE, not DELETE
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    appeal.delete()
    check_now()
    assert not AppealEvent.objects.filter(appeal_id=appeal.pk).exists()
    assert rows(f"SELECT count(*) FROM {P.KEY_TABLE} WHERE appeal_id = %s", [appeal.pk]) == [
        (0,)]


@pytest.mark.django_db(transaction=True)
def test_the_references_hold_at_a_real_commit():
    load_categories()  # transactional tests flush what the data migration loaded
    build_city()
    appeal, _ = new_appeal(A)
    dsn = {**connection.get_connection_params()}
    dsn.pop("cursor_factory", None)
    dsn.pop("context", None)
    with psycopg.connect(**dsn) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("INSERT INTO layers_support (appeal_id, client_key, at)"
                         " VALUES (%s, 'k', now())", [appeal.pk + 10**9])
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("DELETE FROM layers_appeal WHERE id = %s", [appeal.pk])
        assert conn.execute("SELECT count(*) FROM layers_appeal WHERE id = %s",
                            [appeal.pk]).fetchone() == (1,)


def test_a_report_time_moved_to_another_month_keeps_the_row_its_keys_and_references(city):
    P.ensure([FAR])
    appeal, _ = new_appeal(A)
    Appeal.objects.filter(pk=appeal.pk).update(reported_at=at(2031, 5, 9, 12))
    check_now()  # the delete from the old partition leaves no orphans: the row moved
    appeal.refresh_from_db()
    assert partition_of(appeal) == "layers_appeal_p203105"
    assert rows(f"SELECT reported_at FROM {P.KEY_TABLE} WHERE appeal_id = %s",
                [appeal.pk]) == [(at(2031, 5, 9, 12),)]
    assert appeal.events.count() == 2


# --- the timeline --------------------------------------------------------------------------------


def test_timeline_rows_are_immutable_in_every_partition(city):
    appeal, _ = new_appeal(A)
    P.ensure([FAR])
    for moment in (appeal.reported_at, at(2031, 5, 1, 8), at(2040, 1, 1, 8)):  # last: DEFAULT
        AppealEvent.objects.create(appeal=appeal, kind="warn", at=moment)
    parts = {p for (p,) in rows("SELECT DISTINCT tableoid::regclass::text FROM"
                                " layers_appealevent WHERE appeal_id = %s", [appeal.pk])}
    assert {"layers_appealevent_p203105", "layers_appealevent_default"} <= parts
    for part in parts:
        with pytest.raises(Exception, match="immutable"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(f"UPDATE {part} SET note = 'x' WHERE appeal_id = %s", [appeal.pk])
    with pytest.raises(Exception, match="immutable"), transaction.atomic():
        AppealEvent.objects.filter(appeal=appeal).update(note="x")


def test_timeline_photos_and_supports_carry_the_appeals_district_code(city):
    appeal, _ = new_appeal(A)
    with connection.cursor() as cursor:  # raw inserts without the code: the trigger fills it
        cursor.execute("INSERT INTO layers_appealevent (appeal_id, kind, at, data)"
                       " VALUES (%s, 'warn', now(), '{}')", [appeal.pk])
        cursor.execute("INSERT INTO layers_support (appeal_id, client_key, at)"
                       " VALUES (%s, 'raw', now())", [appeal.pk])
    Support.objects.create(appeal=appeal, client_key="orm")
    codes = rows("SELECT district_code FROM layers_appealevent WHERE appeal_id = %s"
                 " UNION ALL SELECT district_code FROM layers_support WHERE appeal_id = %s",
                 [appeal.pk, appeal.pk])
    assert len(codes) == 5 and {c for (c,) in codes} == {appeal.district_code}
    assert len(appeal.district_code) == 6


# --- maintenance ---------------------------------------------------------------------------------


def test_ensure_moves_the_rows_default_held_for_the_new_month(city):
    appeal, _ = new_appeal(A)
    far = Appeal.objects.create(**_fields(appeal, "FAR-2", at(2032, 3, 31, 23, 30)))
    AppealEvent.objects.create(appeal=far, kind="warn", at=at(2032, 3, 1, 0, 0))
    assert partition_of(far) == "layers_appeal_default"
    created = P.ensure([(2032, 3)])
    assert created == ["layers_appeal_p203203", "layers_appealevent_p203203"]
    check_now()
    assert partition_of(far) == "layers_appeal_p203203"
    assert rows("SELECT tableoid::regclass::text FROM layers_appealevent WHERE appeal_id = %s",
                [far.pk]) == [("layers_appealevent_p203203",)]
    assert Appeal.objects.by_ref(far.tracking).get() == far
    assert P.ensure([(2032, 3)]) == []  # idempotent


def test_list_detach_and_attach_a_month(city):
    appeal, _ = new_appeal(A)
    P.ensure([FAR])
    far = Appeal.objects.create(**_fields(appeal, "FAR-3", at(2031, 5, 20, 9)))
    AppealEvent.objects.create(appeal=far, kind="warn", at=at(2031, 5, 20, 9))
    listed = {p.name: p for p in P.list_partitions()}
    assert listed["layers_appeal_p203105"].rows == 1
    assert listed["layers_appeal_p203105"].bound.startswith("FOR VALUES FROM")
    assert P.detach(FAR) == ["layers_appeal_p203105", "layers_appealevent_p203105"]
    assert not Appeal.objects.filter(pk=far.pk).exists()
    assert rows("SELECT tracking FROM layers_appeal_p203105") == [("FAR-3",)]
    archived = {p.name: p for p in P.list_partitions()}["layers_appeal_p203105"]
    assert not archived.attached and archived.rows == 1
    # Its tracking number stays taken while archived.
    with pytest.raises(IntegrityError, match="layers_appeal_tracking_key"), \
            transaction.atomic():
        Appeal.objects.create(**_fields(appeal, "FAR-3", at(2031, 6, 1, 9)))
    with pytest.raises(P.PartitionError, match="already detached"):
        P.detach(FAR)
    assert P.attach(FAR) == ["layers_appeal_p203105", "layers_appealevent_p203105"]
    assert Appeal.objects.get(pk=far.pk).events.count() == 1
    with pytest.raises(P.PartitionError, match="attached already"):
        P.attach(FAR)


def test_attach_is_refused_while_default_holds_rows_of_the_month(city):
    appeal, _ = new_appeal(A)
    P.ensure([FAR])
    P.detach(FAR)
    Appeal.objects.create(**_fields(appeal, "FAR-4", at(2031, 5, 2, 9)))  # → DEFAULT now
    with pytest.raises(P.PartitionError, match="holds 1 rows of 2031-05"):
        P.attach(FAR)


@pytest.mark.parametrize(("argv", "message"), [
    (["detach", "2031-13"], "not a month"),
    (["detach", "May 2031"], "not a month"),
    (["attach", "2031-05"], "does not exist"),
    (["ensure", "--from", "2031-05", "--to", "2031-01"], "before it starts"),
    (["ensure", "--from", "2020-01", "--to", "2031-01"], "at most 60 months"),
])
def test_the_command_refuses_bad_arguments_with_a_clear_message(argv, message):
    with pytest.raises(CommandError, match=message):
        call_command("appeal_partitions", *argv)


def test_the_command_ensures_and_lists(capsys):
    call_command("appeal_partitions", "ensure", "--from", "2033-01", "--to", "2033-02")
    out = capsys.readouterr().out
    assert "layers_appeal_p203301" in out and "layers_appealevent_p203302" in out
    call_command("appeal_partitions", "list")
    out = capsys.readouterr().out
    assert "layers_appeal_default" in out and "layers_appeal_p203302" in out


def test_the_daily_sweep_keeps_the_months_ahead(capsys):
    ahead = P.next_month(P.month_of(dt.datetime.now(dt.UTC)), P.MONTHS_AHEAD)
    with connection.cursor() as cursor:
        for table in P.TABLES:
            cursor.execute(f"DROP TABLE {P.partition_name(table, ahead)}")
    call_command("close_unrated")
    assert P.partition_name("layers_appeal", ahead) in capsys.readouterr().out
