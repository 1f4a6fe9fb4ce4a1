"""Rules the database enforces for care, tested against PostgreSQL itself, and the races they
settle on real connections: four eyes, one open enrolment per person, one pending proposal,
one open regular due, append-only visits and timeline."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils import timezone

from geogrid.errors import Conflict
from layers.care import services
from layers.care.models import CareEvent, CareProposal, CareSubject, Visit, VisitDue
from tests.concurrency import race
from tests.layers.care.conftest import build_ward, viewer

pytestmark = pytest.mark.django_db


def test_the_proposer_may_not_decide_their_own_proposal_in_the_database(ward):
    s1 = ward.subjects["s1"]
    proposal = services.reassess(s1.pk, viewer(ward.users["cs"]), colour="yellow",
                                 groups=["subsistence"], reason="better")
    with pytest.raises(PermissionDenied):  # the service says so first …
        services.approve(proposal.pk, viewer(ward.users["cs"]))
    with pytest.raises(IntegrityError, match="care_proposal_four_eyes"), transaction.atomic():
        CareProposal.objects.filter(pk=proposal.pk).update(  # … and the database refuses
            outcome="approved", decided_by=ward.users["cs"], decided_at=timezone.now())


def test_one_open_enrolment_per_person_and_one_pending_proposal_per_subject(ward):
    s1 = ward.subjects["s1"]
    with pytest.raises(Conflict, match="care_one_open_subject_per_person"):
        services.enrol(viewer(ward.users["gw"]), person=s1.person_id, groups=["hardship"],
                       colour="blue", colour_reason="again")
    services.reassess(s1.pk, viewer(ward.users["gw"]), colour="yellow", groups=["disabled"],
                      reason="a")
    with pytest.raises(Conflict, match="care_one_pending_proposal"):
        services.exit_care(s1.pk, viewer(ward.users["gw"]), reason="b")
    assert CareProposal.objects.filter(subject=s1, outcome="pending").count() == 1


def test_one_open_regular_due_per_subject(ward):
    s1 = ward.subjects["s1"]
    with pytest.raises(IntegrityError, match="visitdue_one_open_regular"), transaction.atomic():
        VisitDue.objects.create(subject=s1, kind="regular", due_at=timezone.now())


@pytest.mark.parametrize("table", ["care_visit", "care_careevent"])
def test_visits_and_the_timeline_are_append_only(ward, table):
    from tests.layers.care.test_plan import visit

    visit(ward.subjects["s1"], ward.users["gw"])
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET id = id")
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")
    assert Visit.objects.count() == 1 and CareEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_staff_approving_one_proposal_at_once_apply_it_once():
    ward = build_ward()
    s2 = ward.subjects["s2"]
    proposal = services.reassess(s2.pk, viewer(ward.users["gw"]), colour="red",
                                 groups=["hardship"], reason="fell twice")
    results = race(lambda: services.approve(proposal.pk, viewer(ward.users["cs"])),
                    lambda: services.approve(proposal.pk, viewer(ward.users["co"])))
    assert sum(isinstance(r, CareProposal) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert CareEvent.objects.filter(subject=s2, kind="approved").count() == 2  # enrol + this
    assert VisitDue.objects.filter(subject=s2, kind="regular", met_at__isnull=True,
                                   cancelled_at__isnull=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_grid_workers_enrolling_one_person_at_once_make_one_subject():
    ward = build_ward()
    person = ward.town.person("h1", 1)
    gw, cs = viewer(ward.users["gw"]), viewer(ward.users["cs"])

    def enrol(v):
        return lambda: services.enrol(v, person=person.pk, groups=["hardship"],
                                      colour="yellow", colour_reason="lives alone")

    results = race(enrol(gw), enrol(cs))
    assert sum(isinstance(r, CareSubject) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert CareSubject.objects.filter(person=person).count() == 1
