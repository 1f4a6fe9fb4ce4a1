"""The visit plan and its reminders under a frozen clock (`remind(now=…)`): due dates per colour,
the 24-hour 必要访, what counts, and the warn → due → escalate steps, each once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from layers.appeals.models import Notification
from layers.care import services
from layers.care.models import CareEvent, CareProposal, VisitDue
from layers.care.reminders import remind
from tests.layers.care.conftest import viewer

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def open_dues(subject, kind=None):
    rows = VisitDue.objects.filter(subject=subject, met_at__isnull=True, cancelled_at__isnull=True)
    return list(rows.filter(kind=kind) if kind else rows)


def approved_at(subject):
    return CareProposal.objects.get(subject=subject, kind="enrol").decided_at


def visit(subject, user, *, mode="home", kind="key", ago=dt.timedelta(hours=1), **extra):
    end = timezone.now() - ago
    data = dict(kind=kind, mode=mode, started_at=end - dt.timedelta(minutes=30), ended_at=end,
                living="ok", safety="ok", family_care="ok", services="ok")
    data.update(extra)
    return services.record_visit(subject.pk, viewer(user), **data)


def notified(user, kind, subject=None):
    rows = Notification.objects.filter(user=user, kind=kind)
    return (rows.filter(data__subject=subject.pk) if subject else rows).count()


@pytest.mark.parametrize(("name", "days"), [("s1", 7), ("s2", 30), ("s3", 90)])
def test_the_first_regular_visit_is_due_one_colour_interval_after_approval(ward, name, days):
    subject = ward.subjects[name]
    (due,) = open_dues(subject)
    assert due.kind == "regular"
    assert due.due_at - approved_at(subject) == dt.timedelta(days=days)


def test_intervals_are_settings(ward, settings):
    settings.GEOGRID = {**settings.GEOGRID, "CARE": {**settings.GEOGRID["CARE"],
                                                     "INTERVAL_DAYS": {"red": 3, "yellow": 14,
                                                                       "blue": 60}}}
    s1 = ward.subjects["s1"]
    services.reassess(s1.pk, viewer(ward.users["gw"]), colour="yellow", groups=["hardship"],
                      reason="better")
    proposal = CareProposal.objects.get(subject=s1, outcome="pending")
    services.approve(proposal.pk, viewer(ward.users["co"]))
    (due,) = open_dues(s1)
    decided = CareProposal.objects.get(pk=proposal.pk).decided_at
    assert due.due_at - decided == dt.timedelta(days=14)


def test_a_home_visit_restarts_the_red_clock_and_a_phone_call_does_not(ward):
    s1, gw = ward.subjects["s1"], ward.users["gw"]
    (before,) = open_dues(s1)
    call = visit(s1, gw, mode="chat")
    assert not call.counts and open_dues(s1) == [before]
    home = visit(s1, gw, mode="home")
    assert home.counts
    before.refresh_from_db()
    assert before.met_at == home.ended_at and before.met_by == home
    (after,) = open_dues(s1)
    assert after.due_at == home.started_at + 7 * DAY
    s1.refresh_from_db()
    assert s1.last_visit_at == home.started_at


def test_a_phone_call_counts_for_blue(ward):
    s3 = ward.subjects["s3"]
    call = visit(s3, ward.users["gw_b"], mode="chat", kind="regular")
    assert call.counts
    (after,) = open_dues(s3)
    assert after.due_at == call.started_at + 90 * DAY


def test_a_trigger_makes_a_necessary_visit_due_within_24_hours_and_tells_the_visitors_at_once(
        ward):
    s1, users = ward.subjects["s1"], ward.users
    due = services.trigger(s1.pk, viewer(users["mul"]), trigger="discharge", note="出院")
    assert due.kind == "necessary" and due.trigger == "discharge"
    assert due.due_at - due.created_at == dt.timedelta(hours=24)
    for name in ("gw", "mul", "vol"):
        assert notified(users[name], "care_necessary", s1) == 1
    assert notified(users["bl"], "care_necessary") == 0  # not s1's visitor
    # A counting visit meets it together with the regular one.
    home = visit(s1, users["gw"], ago=dt.timedelta(0))
    due.refresh_from_db()
    assert due.met_by == home
    assert [d.kind for d in open_dues(s1)] == ["regular"]


def test_reminders_warn_then_tell_the_grid_worker_then_escalate_each_once(ward):
    s2, users = ward.subjects["s2"], ward.users
    (due,) = open_dues(s2)
    at = due.due_at

    def steps(report):
        return [due.pk in report.warned, due.pk in report.due, due.pk in report.escalated]

    assert steps(remind(now=at - 3 * DAY)) == [False, False, False]  # too early
    assert steps(remind(now=at - 2 * DAY + dt.timedelta(minutes=1))) == [True, False, False]
    assert notified(users["bl"], "care_due_soon", s2) == 1  # s2's visitor
    assert notified(users["gw"], "care_due_soon", s2) == 0  # gw is not s2's visitor
    assert steps(remind(now=at - DAY)) == [False, False, False]  # warned already

    assert steps(remind(now=at + dt.timedelta(minutes=1))) == [False, True, False]
    assert notified(users["gw"], "care_due", s2) == 1  # the grid worker of micro-grid A
    assert notified(users["gw_b"], "care_due", s2) == 0
    assert notified(users["cs"], "care_due", s2) == 0

    assert steps(remind(now=at + 2 * DAY)) == [False, False, False]
    assert steps(remind(now=at + 3 * DAY + dt.timedelta(minutes=1))) == [False, False, True]
    assert notified(users["cs"], "care_overdue", s2) == 1
    assert notified(users["co"], "care_overdue", s2) == 1
    assert notified(users["cs2"], "care_overdue", s2) == 0  # another community
    assert notified(users["ss"], "care_overdue", s2) == 0  # subdistrict: masked lists only

    again = remind(now=at + 10 * DAY)
    assert again.notifications == 0 and not (again.warned or again.due or again.escalated)
    kinds = list(CareEvent.objects.filter(subject=s2, kind__in=["warned", "due", "escalated"])
                 .values_list("kind", flat=True))
    assert kinds == ["warned", "due", "escalated"]


def test_a_missed_necessary_visit_escalates_after_12_hours(ward):
    s3, users = ward.subjects["s3"], ward.users
    due = services.trigger(s3.pk, viewer(users["gw_b"]), trigger="bereavement")
    assert remind(now=due.due_at + dt.timedelta(hours=11)).escalated == []
    report = remind(now=due.due_at + dt.timedelta(hours=12, minutes=1))
    assert due.pk in report.escalated
    assert notified(users["cs"], "care_overdue", s3) == 1


def test_an_exit_cancels_every_due_and_ends_the_visitors(ward):
    s1, users = ward.subjects["s1"], ward.users
    services.trigger(s1.pk, viewer(users["gw"]), trigger="disaster")
    services.exit_care(s1.pk, viewer(users["gw"]), reason="moved to a care home")
    assert len(open_dues(s1)) == 2  # nothing changes before approval
    proposal = CareProposal.objects.get(subject=s1, outcome="pending")
    services.approve(proposal.pk, viewer(users["cs"]))
    s1.refresh_from_db()
    assert s1.status == "exited" and s1.exit_reason == "moved to a care home"
    assert open_dues(s1) == []
    assert not s1.visitors.filter(until__isnull=True).exists()
    later = remind(now=timezone.now() + 100 * DAY)  # s2's and s3's dues, none of s1's
    assert later.due and not VisitDue.objects.filter(subject=s1, pk__in=later.due).exists()


def test_an_extra_round_owes_a_visit_to_each_active_subject_of_the_colours_in_the_subtree(ward):
    from tests.layers.factories import COMMUNITY, A

    users = ward.users
    at = timezone.now() + 5 * DAY
    extra = services.order_extra_round(viewer(users["co"]), grid=COMMUNITY, reason="holiday",
                                       due_at=at, colours=["red", "blue"])
    assert extra.subjects == 2  # s1 (red) and s3 (blue); s2 is yellow
    assert {d.subject_id for d in VisitDue.objects.filter(extra_round=extra)} == {
        ward.subjects["s1"].pk, ward.subjects["s3"].pk}
    only_a = services.order_extra_round(viewer(users["cs"]), grid=A, reason="weather",
                                        due_at=at)
    assert only_a.subjects == 2  # s1 and s2 live in micro-grid A
    # A counting visit meets the extra due too.
    home = visit(ward.subjects["s1"], users["gw"], ago=dt.timedelta(0))
    assert VisitDue.objects.filter(subject=ward.subjects["s1"], kind="extra",
                                   met_by=home).count() == 2


def test_the_command_run_twice_tells_nobody_the_second_time(ward):
    from io import StringIO

    from django.core.management import call_command

    s2 = ward.subjects["s2"]
    VisitDue.objects.filter(subject=s2, kind="regular", met_at__isnull=True).update(
        due_at=timezone.now() - 4 * DAY)  # due and past the escalation point
    first, second = StringIO(), StringIO()
    call_command("care_reminders", stdout=first)
    call_command("care_reminders", stdout=second)
    assert "care staff told: 1" in first.getvalue()
    assert notified(ward.users["cs"], "care_overdue", s2) == 1
    assert "notifications: 0" in second.getvalue()
