"""The people actions: what each changes, the change-log row it writes, and that a failure
anywhere leaves the register as it was."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from geogrid.errors import Conflict, NotFound
from layers.people import services
from layers.people.access import Viewer
from layers.people.models import (
    ChangeEvent,
    Dwelling,
    Household,
    HouseholdIssue,
    Person,
    Residence,
)
from tests.layers.factories import A
from tests.layers.people.factories import synthetic_id

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 20)


def viewer(user) -> Viewer:
    return Viewer(user)


def open_members(household: Household) -> set[int]:
    return set(household.residences.filter(valid_to__isnull=True)
               .values_list("person_id", flat=True))


def snapshot() -> tuple:
    return (list(Residence.objects.order_by("id").values_list("id", "valid_to", "relation")),
            list(Household.objects.order_by("id").values_list("id", "status", "version")),
            list(Dwelling.objects.order_by("id").values_list("id", "usage")),
            ChangeEvent.objects.count(), Person.objects.count())


def test_whole_household_moves_out_and_the_room_is_left_vacant(town):
    h = town.households["h1"]
    services.move_out(h.pk, viewer(town.users["mul"]), effective_date=DAY, version=1)
    h.refresh_from_db()
    assert (h.status, h.ended_on, h.version) == ("moved_out", DAY, 2)
    assert open_members(h) == set()
    assert Residence.objects.filter(household=h, valid_to=DAY).count() == 3
    assert Dwelling.objects.get(pk=h.dwelling_id).usage == "vacant"
    kinds = list(ChangeEvent.objects.order_by("id").values_list("kind", "source",
                                                                "reported_by__username"))
    assert kinds == [("move_out", "door", "mul"), ("usage_changed", "system", "mul")]


def test_the_head_leaving_needs_a_new_head_among_those_who_stay(town):
    h = town.households["h1"]
    head, child = town.person("h1", 0), town.person("h1", 1)
    with pytest.raises(ValidationError) as err:
        services.move_out(h.pk, viewer(town.users["gw"]), members=[head.pk],
                          effective_date=DAY, version=1)
    assert "new_head" in err.value.message_dict
    services.move_out(h.pk, viewer(town.users["gw"]), members=[head.pk], new_head=child.pk,
                      effective_date=DAY, version=1)
    assert Residence.objects.get(person=child, valid_to__isnull=True).relation == "head"
    assert set(ChangeEvent.objects.values_list("kind", flat=True)) == {"head_changed",
                                                                       "member_left"}
    assert Household.objects.get(pk=h.pk).status == "active"


def test_a_move_out_that_fails_half_way_writes_nothing(town, monkeypatch):
    """The residences are closed before the change-log row is written: make that write fail
    and every residence must still be open."""
    h = town.households["h1"]
    before = snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_vacate_if_empty", broken)
    with pytest.raises(RuntimeError):
        services.move_out(h.pk, viewer(town.users["mul"]), effective_date=DAY, version=1)
    assert snapshot() == before
    assert len(open_members(h)) == 3


def test_stale_version_and_wrong_state_are_conflicts(town):
    h = town.households["h2"]
    with pytest.raises(Conflict):
        services.set_tags(h.pk, viewer(town.users["bl"]), tags=["独居"], version=7)
    services.move_out(h.pk, viewer(town.users["bl"]), effective_date=DAY, version=1)
    with pytest.raises(Conflict):
        services.set_tags(h.pk, viewer(town.users["bl"]), tags=["独居"], version=2)


def test_out_of_scope_is_not_found_and_in_sight_without_right_is_forbidden(town):
    h3 = town.households["h3"]
    with pytest.raises(NotFound):
        services.set_tags(h3.pk, viewer(town.users["mul"]), tags=[], version=1)
    with pytest.raises(PermissionDenied):  # the leader sees h1 but does not verify profiles
        services.verify_profile(town.households["h1"].pk, viewer(town.users["mul"]), version=1)


def member(**extra) -> dict:
    return {"name": "李四", "id_type": "resident_id", "id_number": synthetic_id(),
            "relation": "spouse", "phone": "13600002222", "birth_date": None, "gender": "",
            "population_kind": "registered", "presence": "both", **extra}


def test_a_person_already_living_elsewhere_cannot_be_added_twice(town):
    someone = town.person("h3")
    from layers.people import identity

    number = identity.open_value(someone.id_cipher, identity.ID_COLUMN)
    with pytest.raises(ValidationError) as err:
        services.add_member(town.households["h1"].pk, viewer(town.users["gw"]),
                            effective_date=DAY, version=1, **member(id_number=number))
    assert "id_number" in err.value.message_dict
    assert Person.objects.count() == 6


def test_move_in_then_a_returning_person_is_found_by_keyed_hash(town):
    """A person who moved out and comes back is the same register row (no duplicate)."""
    gw = viewer(town.users["gw"])
    h2 = town.households["h2"]
    leaving = town.person("h2", 1)
    from layers.people import identity

    number = identity.open_value(leaving.id_cipher, identity.ID_COLUMN)
    services.move_out(h2.pk, gw, members=[leaving.pk], effective_date=DAY, version=1)
    dwelling = Dwelling.objects.get(pk=town.households["h1"].dwelling_id)
    new = services.move_in(dwelling.pk, gw, kind="floating", effective_date=DAY,
                           members=[member(id_number=number, relation="head", name="王五")])
    assert open_members(new) == {leaving.pk}
    assert Person.objects.get(pk=leaving.pk).name == "王五"
    assert Person.objects.count() == 6
    with pytest.raises(ValidationError):  # a household needs exactly one head
        services.move_in(dwelling.pk, gw, kind="registered", effective_date=DAY,
                         members=[member(relation="child")])


def test_death_of_someone_living_alone_dissolves_the_household(town):
    h3 = town.households["h3"]
    alone = town.person("h3")
    services.record_death(h3.pk, viewer(town.users["gw_b"]), member=alone.pk,
                          effective_date=DAY, version=1)
    h3.refresh_from_db()
    assert h3.status == "dissolved" and Person.objects.get(pk=alone.pk).died_on == DAY


def test_checks_stamp_the_ledger_dates_and_are_verified_when_made(town):
    gw = viewer(town.users["gw"])
    h1 = town.households["h1"]
    services.verify_profile(h1.pk, gw, version=1)
    services.verify_occupancy(h1.dwelling_id, gw)
    h1.refresh_from_db()
    assert h1.profile_verified_at and h1.profile_verified_by == town.users["gw"]
    assert Dwelling.objects.get(pk=h1.dwelling_id).occupancy_verified_at
    checks = ChangeEvent.objects.filter(kind__in=["profile_checked", "occupancy_checked"])
    assert checks.count() == 2 and all(c.verification.verified_by == town.users["gw"]
                                       for c in checks)


def test_an_issue_with_a_category_becomes_an_appeal_at_the_building(town):
    from layers.appeals.models import Appeal

    h1 = town.households["h1"]
    issue = services.raise_issue(h1.pk, viewer(town.users["mul"]), text="楼道灯坏了",
                                 category="E0102")
    assert issue.status == "referred"
    appeal = Appeal.objects.get(pk=issue.appeal_id)
    assert appeal.location.equals_exact(town.buildings["a1"].location, 1e-9)
    assert appeal.grid.code == A
    assert "101" not in appeal.address and appeal.description == "楼道灯坏了"
    plain = services.raise_issue(h1.pk, viewer(town.users["mul"]), text="独居老人需要探访")
    assert plain.status == "open" and plain.appeal is None
    with pytest.raises(ValidationError) as err:
        services.raise_issue(h1.pk, viewer(town.users["mul"]), text="x", category="NOPE")
    assert "category" in err.value.message_dict
    assert HouseholdIssue.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_households_adding_the_same_person_at_once_one_wins(transactional_town):
    """Two leaders record the same newcomer in two households at the same moment: the keyed
    hash is unique and one open residence per person is a database rule, so exactly one
    succeeds and the other gets a 409 or a 400, on real concurrent connections."""
    town = transactional_town
    number = synthetic_id(dt.date(1990, 1, 2))
    barrier = threading.Barrier(2)
    results: list[object] = []

    def add(household_name: str, user_name: str) -> None:
        try:
            barrier.wait()
            h = Household.objects.get(pk=town.households[household_name].pk)
            services.add_member(h.pk, viewer(town.users[user_name]), effective_date=DAY,
                                version=h.version, **member(id_number=number))
            results.append("ok")
        except (Conflict, ValidationError) as exc:
            results.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=("h1", "gw")),
               threading.Thread(target=add, args=("h3", "gw_b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1, results
    from layers.people import identity

    assert Residence.objects.filter(person__id_hash=identity.id_hash(number),
                                    valid_to__isnull=True).count() == 1


@pytest.fixture
def transactional_town(transactional_db):
    from tests.layers.people.conftest import build_town

    with transaction.atomic():
        return build_town()


def test_micro_unit_size_is_warned_and_refused_when_strict(town, client, settings):
    client.force_login(town.users["gw"])
    units = {u["code"]: u for u in client.get("/api/v1/people/micro-units/").json()}
    u1 = units[town.units["U1"].code]
    assert u1["households"] == 1 and "1 households" in u1["warnings"][0]
    assert town.units["U2"].code not in units  # micro-grid B: not the worker's
    settings.GEOGRID = {**settings.GEOGRID, "MICRO_UNIT_HOUSEHOLDS": (1, 1),
                        "MICRO_UNIT_STRICT": True}
    dwelling = Dwelling.objects.get(pk=town.households["h1"].dwelling_id)
    with pytest.raises(ValidationError):
        services.move_in(dwelling.pk, viewer(town.users["gw"]), kind="registered",
                         effective_date=DAY, members=[member(relation="head")])
