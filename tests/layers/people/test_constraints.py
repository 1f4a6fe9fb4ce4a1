"""Rules the database holds by itself, whatever code writes: one open residence per person,
one head per household, one dwelling per room, unique ID numbers, and append-only logs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction

from geogrid import accesslog
from geogrid.dbtriggers import purging
from geogrid.models import AccessLog
from layers.people.models import (
    ChangeEvent,
    ChangeVerification,
    Dwelling,
    Person,
    Residence,
)
from tests.layers.people.factories import make_person

pytestmark = pytest.mark.django_db
REFUSED = (IntegrityError, InternalError, ProgrammingError)


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except REFUSED:
        return True
    return False


def test_one_open_residence_per_person(town):
    person = town.person("h1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Residence.objects.create(person=person, household=town.households["h3"],
                                 relation="other", valid_from=dt.date(2026, 1, 1))
    # once the first residence is closed, the second may open
    Residence.objects.filter(person=person).update(valid_to=dt.date(2026, 1, 1))
    Residence.objects.create(person=person, household=town.households["h3"], relation="other",
                             valid_from=dt.date(2026, 1, 1))


def test_one_open_head_per_household(town):
    newcomer = make_person("赵六")
    with pytest.raises(IntegrityError), transaction.atomic():
        Residence.objects.create(person=newcomer, household=town.households["h1"],
                                 relation="head", valid_from=dt.date(2026, 1, 1))


def test_unique_dwelling_and_id_number(town):
    d = Dwelling.objects.get(pk=town.households["h1"].dwelling_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        Dwelling.objects.create(building=d.building, unit_no=d.unit_no, room_no=d.room_no)
    p = town.person("h1")
    assert refused("INSERT INTO people_person (name, id_type, id_cipher, id_hash, id_masked,"
                   " gender, phone_masked, population_kind, hukou_division_code, party_member,"
                   " created_at, version) SELECT 'x', id_type, id_cipher, id_hash, '', '', '',"
                   " 'registered', '', false, now(), 1 FROM people_person WHERE id = %s", [p.pk])


@pytest.mark.parametrize("table", ["people_changeevent", "people_changeverification",
                                   "geogrid_accesslog"])
def test_logs_refuse_update_and_delete(town, table, rf):
    from layers.people import services
    from tests.layers.people.test_services import viewer

    h = town.households["h1"]
    services.change_contact(h.pk, viewer(town.users["mul"]), contact_phone="13700001234",
                            version=1)
    change = ChangeEvent.objects.latest("id")
    services.verify(change.pk, viewer(town.users["gw"]))
    accesslog.record(rf.get("/"), user=town.users["gw"], post="grid_worker", action="read",
                     subject_type="household", subject_ids=[h.pk])
    assert refused(f"UPDATE {table} SET id = id")
    assert refused(f"DELETE FROM {table}")
    assert (ChangeEvent.objects.count(), ChangeVerification.objects.count(),
            AccessLog.objects.count()) == (1, 1, 1)


def test_only_the_retention_purge_may_delete_from_a_log(town, rf):
    accesslog.record(rf.get("/"), user=town.users["gw"], post="grid_worker", action="read",
                     subject_type="household", subject_ids=[1])
    with transaction.atomic(), purging():
        AccessLog.objects.all().delete()
    assert not AccessLog.objects.exists()
    # the permission ends with the block
    accesslog.record(None, user=None, post="", action="read", subject_type="x",
                     subject_ids=[1])
    assert refused("DELETE FROM geogrid_accesslog")


def test_no_identifier_is_stored_in_the_clear(town):
    from layers.people import identity

    clear = [identity.open_value(p.id_cipher, identity.ID_COLUMN) for p in Person.objects.all()]
    with connection.cursor() as cursor:
        cursor.execute("SELECT p::text FROM people_person p")
        rows = " ".join(r[0] for r in cursor.fetchall())
    assert clear and not any(c in rows or c[:17] in rows for c in clear)
    assert "13812345678" not in rows
