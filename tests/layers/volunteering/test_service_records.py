"""Service records: verification earns once by the `service_hour` rule, rejection of a verified
record reverses its points, a volunteer never verifies their own service (nor does the database
let them), and applications become volunteers by another person's approval."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from geogrid.errors import Conflict, NotFound
from layers.volunteering import services
from layers.volunteering.access import PointsViewer
from layers.volunteering.models import PointsEntry, ServiceRecord, Volunteer
from tests.layers.factories import COMMUNITY, A
from tests.layers.volunteering.conftest import COMMUNITY2

pytestmark = pytest.mark.django_db


def V(user) -> PointsViewer:
    return PointsViewer(user)


def record(world, name="v1", hours="3", grid=A, by=None) -> ServiceRecord:
    viewer = V(world.users[by or name])
    return services.submit_record(
        viewer, activity="清理楼道", grid=grid, served_on=timezone.localdate(),
        hours=Decimal(hours), volunteer=None if by is None else world.volunteers[name].pk)


def test_verification_posts_the_rule_points_once(world):
    r = record(world, hours="3")  # 1 point an hour, at most 2 hours counted
    services.verify_record(r.pk, V(world.users["cs"]))
    r.refresh_from_db()
    assert r.status == "verified" and r.verified_by == world.users["cs"]
    assert r.entry is not None and r.entry.amount == 2 and r.entry.rule == "service_hour"
    assert r.entry.source_type == "service_record" and r.entry.source_id == r.pk
    with pytest.raises(Conflict):  # verified already: the state check …
        services.verify_record(r.pk, V(world.users["ss"]))
    assert PointsEntry.objects.count() == 1  # … and the record's key hold it to one entry
    assert world.account("v1").balance == 2


def test_rejecting_a_verified_record_reverses_its_points(world):
    r = record(world, hours="1.5")
    services.verify_record(r.pk, V(world.users["cs"]))
    with pytest.raises(PermissionDenied):  # taking points back is POINTS_REVERSE's
        services.reject_record(r.pk, V(world.users["cs"]), reason="not true")
    services.reject_record(r.pk, V(world.users["ss"]), reason="paid work, not volunteering")
    r.refresh_from_db()
    assert r.status == "rejected" and r.reversal is not None
    assert r.reversal.reverses_id == r.entry_id and r.reversal.amount == -1
    assert world.account("v1").balance == 0


def test_rejecting_a_record_whose_points_are_spent_changes_nothing(world):
    from layers.volunteering import ledger

    r = record(world, hours="2")
    services.verify_record(r.pk, V(world.users["cs"]))
    ledger.post(world.account("v1").pk, -2, "redeem", key="spent")
    with pytest.raises(Conflict, match="Not enough points"):
        services.reject_record(r.pk, V(world.users["ss"]), reason="x")
    r.refresh_from_db()
    assert r.status == "verified" and r.reversal is None


def test_a_volunteer_may_not_verify_their_own_service_nor_may_the_database(world):
    staff_volunteer = Volunteer.objects.create(user=world.users["cs"], display_name="社工",
                                               community=world.grids[COMMUNITY])
    r = services.submit_record(V(world.users["cs"]), activity="义诊", grid=A,
                               served_on=timezone.localdate(), hours=Decimal(2))
    assert r.volunteer == staff_volunteer
    with pytest.raises(PermissionDenied):
        services.verify_record(r.pk, V(world.users["cs"]))
    with pytest.raises(IntegrityError, match="service_record_not_own"), transaction.atomic():
        ServiceRecord.objects.filter(pk=r.pk).update(
            status="verified", verified_by=world.users["cs"], verified_at=timezone.now())


def test_the_database_checks_hours_and_who_verified(world):
    r = record(world)
    with pytest.raises(IntegrityError, match="service_record_hours"), transaction.atomic():
        ServiceRecord.objects.filter(pk=r.pk).update(hours=Decimal("24.5"))
    with pytest.raises(IntegrityError, match="service_record_verified_by"), transaction.atomic():
        ServiceRecord.objects.filter(pk=r.pk).update(status="verified")


def test_staff_outside_the_grid_do_not_see_the_record(world):
    r = record(world)
    with pytest.raises(NotFound):
        services.verify_record(r.pk, V(world.users["cs2"]))
    with pytest.raises(NotFound):
        services.verify_record(r.pk, V(world.users["v2"]))


def test_a_volunteer_records_only_in_their_own_community(world):
    with pytest.raises(ValidationError):
        services.submit_record(V(world.users["v3"]), activity="x", grid=A,
                               served_on=timezone.localdate(), hours=Decimal(1))
    with pytest.raises(PermissionDenied):
        services.submit_record(V(world.users["resident"]), activity="x", grid=A,
                               served_on=timezone.localdate(), hours=Decimal(1))
    r = record(world, "v3", grid=COMMUNITY2)
    assert r.volunteer == world.volunteers["v3"]


def test_the_daily_cap_limits_verified_service(world):
    records = [record(world, hours="2") for _ in range(11)]
    for r in records:
        services.verify_record(r.pk, V(world.users["cs"]))
    earned = sorted((ServiceRecord.objects.get(pk=r.pk).entry or PointsEntry(amount=0)).amount
                    for r in records)
    assert sum(earned) == 20 and earned[0] == 0  # the 11th found the cap reached


def test_an_application_is_approved_by_staff_not_by_the_applicant(world):
    resident = world.users["resident"]
    a = services.apply(V(resident), community=COMMUNITY, display_name="热心人")
    with pytest.raises(Conflict):  # one pending application at a time
        services.apply(V(resident), community=COMMUNITY, display_name="again")
    with pytest.raises(NotFound):
        services.approve_application(a.pk, V(world.users["cs2"]))
    services.approve_application(a.pk, V(world.users["cs"]))
    a.refresh_from_db()
    assert a.status == "approved" and a.volunteer.user == resident
    assert a.volunteer.account.balance == 0
    with pytest.raises(Conflict):
        services.apply(V(resident), community=COMMUNITY, display_name="twice")


def test_staff_register_a_volunteer_in_their_community_only(world):
    with pytest.raises(ValidationError):
        services.register_volunteer(V(world.users["cs2"]), username="resident",
                                    display_name="x", community=COMMUNITY)
    v = services.register_volunteer(V(world.users["cs"]), username="resident",
                                    display_name="老陈", community=COMMUNITY)
    assert v.community.code == COMMUNITY and v.account.balance == 0
    with pytest.raises(Conflict):
        services.register_volunteer(V(world.users["cs"]), username="resident",
                                    display_name="老陈", community=COMMUNITY)


def test_an_adjustment_needs_a_second_person(world):
    account = world.account("v1")
    adj = services.propose_adjustment(V(world.users["ss"]), account.pk, amount=15,
                                      reason="paper record of 2025")
    assert world.account("v1").balance == 0
    with pytest.raises(PermissionDenied):
        services.approve_adjustment(adj.pk, V(world.users["ss"]))
    with pytest.raises(NotFound):  # POINTS_VERIFY is not enough to see it
        services.approve_adjustment(adj.pk, V(world.users["cs"]))
    services.approve_adjustment(adj.pk, V(world.users["ss2"]))
    adj.refresh_from_db()
    assert adj.status == "approved" and adj.entry.kind == "adjust" and adj.entry.amount == 15
    assert world.account("v1").balance == 15


def test_staff_reverse_an_entry_once_with_a_reason(world):
    account = world.account("v1")
    adj = services.propose_adjustment(V(world.users["ss"]), account.pk, amount=5, reason="x")
    services.approve_adjustment(adj.pk, V(world.users["ss2"]))
    entry = PointsEntry.objects.get(kind="adjust")
    with pytest.raises(NotFound):
        services.reverse_entry(entry.pk, V(world.users["cs"]), reason="wrong")
    reversal = services.reverse_entry(entry.pk, V(world.users["ss"]), reason="typed twice")
    assert reversal.amount == -5 and reversal.note == "typed twice"
    with pytest.raises(Conflict):
        services.reverse_entry(entry.pk, V(world.users["ss"]), reason="again")


def test_a_service_record_entry_is_reversed_only_by_rejecting_the_record(world):
    r = record(world)
    services.verify_record(r.pk, V(world.users["cs"]))
    r.refresh_from_db()
    with pytest.raises(Conflict, match="service_record"):
        services.reverse_entry(r.entry_id, V(world.users["ss"]), reason="x")


def test_served_on_dates_are_checked_at_the_edge():
    from layers.volunteering.inputs import RecordInput

    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    bad = RecordInput(data={"activity": "x", "grid": A, "served_on": future, "hours": "25"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"served_on", "hours"}
