"""The schema stays inside the Citus sharding plan (geogrid/scaleout.py, docs/scale-out.md).

The first test is the guard; the others break the schema on purpose, inside the test's
transaction (PostgreSQL's DDL is transactional), and check that the guard notices.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from geogrid import scaleout

DOC = Path(__file__).resolve().parents[2] / "docs" / "scale-out.md"


def problems() -> list[str]:
    with connection.cursor() as cursor:
        return scaleout.plan_problems(cursor)


def ddl(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.django_db
def test_the_current_schema_fits_the_plan():
    assert problems() == []


@pytest.mark.django_db
def test_every_hot_table_of_the_plan_exists_and_is_distributed():
    with connection.cursor() as cursor:
        tables = set(scaleout.current_tables(cursor))
    for table in ("layers_appeal", "layers_appealevent", "layers_appealphoto", "layers_support"):
        assert table in tables
        assert scaleout.placement_of(table) is scaleout.Placement.DISTRIBUTED
    # The tile read model stays with the coordinator (and its replicas); the grids are shared.
    assert scaleout.placement_of("analytics_cube") is scaleout.Placement.LOCAL
    assert scaleout.placement_of("geogrid_grid") is scaleout.Placement.REFERENCE


@pytest.mark.django_db
def test_a_hot_table_losing_its_district_code_is_caught():
    ddl("ALTER TABLE layers_support DROP COLUMN district_code CASCADE")
    assert "layers_support: distributed but has no district_code" in problems()


@pytest.mark.django_db
def test_a_nullable_district_code_is_caught():
    ddl("ALTER TABLE layers_appealphoto ALTER COLUMN district_code DROP NOT NULL")
    assert "layers_appealphoto: district_code may be NULL" in problems()


@pytest.mark.django_db
def test_a_foreign_key_citus_could_not_distribute_is_caught():
    # Distributed → distributed by id alone (not co-located), local → distributed,
    # distributed → a table left on the coordinator, reference → distributed.
    ddl("""
        ALTER TABLE layers_appeal ADD COLUMN probe_person bigint
            CONSTRAINT probe_local REFERENCES people_person (id);
        ALTER TABLE layers_category ADD COLUMN probe_tracking varchar(32);
        CREATE UNIQUE INDEX probe_unique ON layers_trackingsequence (district_code, id);
        ALTER TABLE layers_support ADD CONSTRAINT probe_by_id
            FOREIGN KEY (district_code, id) REFERENCES layers_trackingsequence (district_code, id)
            NOT VALID;
    """)
    found = problems()
    assert any(p.startswith("layers_appeal.probe_local → people_person") and
               "left on the coordinator" in p for p in found), found
    # The co-located key (both sides include the district code) is fine.
    assert not any("probe_by_id" in p for p in found), found

    ddl("""
        ALTER TABLE layers_support DROP CONSTRAINT probe_by_id;
        ALTER TABLE whistles_whistleunit ADD COLUMN probe_support bigint
            CONSTRAINT probe_into REFERENCES layers_support (id);
        ALTER TABLE layers_category ADD COLUMN probe_support bigint
            CONSTRAINT probe_ref REFERENCES layers_support (id);
    """)
    found = problems()
    assert any("probe_into" in p and "local table cannot reference a distributed" in p
               for p in found), found
    assert any("probe_ref" in p and "reference table cannot reference a distributed" in p
               for p in found), found


@pytest.mark.django_db
def test_a_key_between_distributed_tables_without_the_district_code_is_caught():
    ddl("""
        ALTER TABLE layers_support ADD COLUMN probe_seq bigint
            CONSTRAINT probe_seq REFERENCES layers_trackingsequence (id);
    """)
    assert any("probe_seq" in p and "must include district_code" in p for p in problems())


@pytest.mark.django_db
def test_a_global_unique_on_a_hot_table_is_caught():
    ddl("CREATE UNIQUE INDEX probe_global ON layers_trackingsequence (day, last)")
    assert any("probe_global" in p and "unique without district_code" in p for p in problems())


@pytest.mark.django_db
def test_a_new_table_must_be_placed_in_the_plan():
    ddl("CREATE TABLE layers_probe (id bigint PRIMARY KEY)")
    assert any(p.startswith("layers_probe: not in the sharding plan") for p in problems())


@pytest.mark.django_db
def test_the_command_prints_the_citus_calls_and_fails_on_problems(capsys):
    call_command("scaleout_plan", "--sql")
    out = capsys.readouterr().out
    assert "SELECT create_reference_table('geogrid_grid');" in out
    assert "SELECT create_distributed_table('layers_appeal', 'district_code');" in out
    assert ("SELECT create_distributed_table('layers_appealevent', 'district_code', "
            "colocate_with => 'layers_appeal');") in out
    # Reference tables come before the distributed tables that point at them.
    assert out.index("create_reference_table") < out.index("create_distributed_table")

    ddl("CREATE TABLE layers_probe (id bigint PRIMARY KEY)")
    with pytest.raises(CommandError, match="1 problem"):
        call_command("scaleout_plan")


def test_the_document_names_every_table_the_plan_places():
    """docs/scale-out.md and geogrid/scaleout.py list the same distributed and reference tables."""
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9_]+)`", text))
    for table in (*scaleout.DISTRIBUTED, *scaleout.REFERENCE):
        plain = table.split("(")[0]  # a pattern's fixed part, e.g. analytics_fact
        assert plain in named, f"docs/scale-out.md does not name {plain}"
