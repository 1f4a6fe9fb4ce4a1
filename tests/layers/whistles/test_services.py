"""The whistle workflow through its services: blow, report in, finish, resolve, rate, close;
requests; refusals and replacement; who may do what; the appeal's timeline mirror."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from geogrid.errors import Conflict, NotFound
from layers.appeals.models import AppealEvent, Notification
from layers.volunteering.models import ServiceRecord, Volunteer
from layers.whistles import services
from layers.whistles.models import Whistle, WhistleEvent, WhistleHelper, WhistleUnit
from tests.factories import make_user
from tests.layers.factories import COMMUNITY
from tests.layers.whistles.factories import PLACE, appeal_at, make_world

pytestmark = pytest.mark.django_db
W, U = Whistle.Status, WhistleUnit.Status


@pytest.fixture
def world():
    return make_world()


def blow(world, **kw):
    args = {"reason": "appeal", "title": "路灯整修", "lead": "CG", "assists": ["ZJ"],
            "lon": PLACE[0], "lat": PLACE[1]}
    return services.blow(world.actor(world.office), **{**args, **kw})


def unit(whistle, code):
    return WhistleUnit.objects.get(whistle=whistle, department__code=code,
                                   status__in=WhistleUnit.PRESENT)


def act(world, code, name, u, **kw):
    service = services.UNIT_ACTIONS[name].service
    return service(u.pk, world.actor(world.members[code]), **kw)


def test_blowing_calls_in_one_lead_and_the_assists_and_tells_their_members(world):
    whistle = blow(world)
    assert whistle.status == W.BLOWN and whistle.subdistrict.code == world.grids[
        "350427001"].code
    units = {u.department.code: u for u in whistle.units.all()}
    assert {c: u.role for c, u in units.items()} == {"CG": "lead", "ZJ": "assist"}
    assert all(u.status == U.NOTIFIED and u.report_due_at > u.notified_at
               for u in units.values())
    told = set(Notification.objects.filter(kind="whistle").values_list("user_id", flat=True))
    assert told == {world.members["CG"].pk, world.members["ZJ"].pk}
    assert whistle.code.startswith("350427-W")


def test_the_whole_loop_and_its_figures_on_the_units(world):
    whistle = blow(world)
    lead, assist = unit(whistle, "CG"), unit(whistle, "ZJ")
    act(world, "CG", "report_in", lead, mode="on_site", lon=PLACE[0] + 0.001, lat=PLACE[1])
    lead.refresh_from_db()
    assert lead.status == U.REPORTED and 90 < lead.report_distance_m < 110
    assert Whistle.objects.get(pk=whistle.pk).status == W.BLOWN  # the assist has not come
    act(world, "ZJ", "report_in", assist, mode="remote")
    assert Whistle.objects.get(pk=whistle.pk).status == W.WORKING
    act(world, "CG", "finish", lead, result="换了 12 盏灯")
    with pytest.raises(Conflict) as refused:
        services.resolve(whistle.pk, world.actor(world.office))
    assert "ZJ" in str(refused.value.detail)
    assert Whistle.objects.get(pk=whistle.pk).status == W.WORKING  # nothing changed
    act(world, "ZJ", "finish", assist, result="线路检修")
    services.resolve(whistle.pk, world.actor(world.office))
    with pytest.raises(Conflict):  # closing needs the evaluation
        services.close(whistle.pk, world.actor(world.office))
    for u in (lead, assist):
        services.rate(u.pk, world.actor(world.office), rating="satisfied", speed=5, quality=4)
    closed = services.close(whistle.pk, world.actor(world.office))
    assert closed.status == W.CLOSED and closed.closed_at is not None
    kinds = list(WhistleEvent.objects.filter(whistle=whistle).values_list("kind", flat=True))
    assert kinds == ["blow", "report_in", "report_in", "finish", "finish", "resolve", "rate",
                     "rate", "close"]


def test_an_unsatisfied_rating_sends_the_part_back(world):
    whistle = blow(world, assists=[])
    lead = unit(whistle, "CG")
    act(world, "CG", "report_in", lead, mode="remote")
    act(world, "CG", "finish", lead, result="done")
    services.resolve(whistle.pk, world.actor(world.office))
    services.rate(lead.pk, world.actor(world.office), rating="unsatisfied", speed=2, quality=1)
    lead.refresh_from_db()
    assert (lead.status, lead.sent_back, lead.done_at) == (U.REPORTED, 1, None)
    assert Whistle.objects.get(pk=whistle.pk).status == W.WORKING


def test_a_refusing_lead_needs_a_reason_and_is_replaced(world):
    whistle = blow(world)
    lead = unit(whistle, "CG")
    with pytest.raises(ValidationError):
        act(world, "CG", "refuse", lead, reason="  ")
    act(world, "CG", "refuse", lead, reason="不属于本局职责")
    new = services.replace(lead.pk, world.actor(world.dispatcher), department="SW")
    assert new.role == "lead" and new.department.code == "SW" and new.status == U.NOTIFIED
    lead.refresh_from_db()
    assert lead.status == U.REPLACED
    assert WhistleUnit.objects.filter(whistle=whistle, role="lead").exclude(
        status=U.REPLACED).count() == 1


def test_departments_act_only_on_their_own_units(world):
    whistle = blow(world)
    with pytest.raises(PermissionDenied):
        act(world, "ZJ", "report_in", unit(whistle, "CG"), mode="remote")
    with pytest.raises(NotFound):  # a department not called in does not see the whistle
        act(world, "SW", "report_in", unit(whistle, "CG"), mode="remote")
    with pytest.raises(PermissionDenied):  # members do not rate or release
        act(world, "CG", "release", unit(whistle, "CG"), note="go")


def test_only_the_subdistricts_office_or_a_dispatcher_blows(world):
    with pytest.raises(PermissionDenied):
        services.blow(world.actor(world.office2), reason="appeal", title="x", lead="CG",
                      lon=PLACE[0], lat=PLACE[1])
    with pytest.raises(PermissionDenied):
        services.blow(world.actor(world.community), reason="appeal", title="x", lead="CG",
                      lon=PLACE[0], lat=PLACE[1])
    assert services.blow(world.actor(world.dispatcher), reason="emergency", title="x",
                         lead="GA", lon=PLACE[0], lat=PLACE[1]).status == W.BLOWN
    assert Whistle.objects.count() == 1


@pytest.mark.parametrize("lead,assists,field", [
    ("XX", [], "lead"), ("CG", ["CG"], "assists"), ("CG", ["ZJ", "ZJ"], "assists"),
    ("CG", ["NOPE"], "assists")])
def test_bad_units_are_refused_and_nothing_is_stored(world, lead, assists, field):
    with pytest.raises(ValidationError) as exc:
        blow(world, lead=lead, assists=assists)
    assert field in exc.value.message_dict
    assert not Whistle.objects.exists() and not WhistleUnit.objects.exists()


def test_a_community_requests_and_the_subdistrict_approves_or_declines(world):
    staff = world.actor(world.community)
    asked = services.request(staff, reason="key_task", title="加装电梯协调", lead="ZJ",
                             assists=["CG"], grid=COMMUNITY)
    assert asked.status == W.REQUESTED and not asked.units.exists()
    assert Notification.objects.filter(user=world.office, kind="whistle").exists()
    with pytest.raises(PermissionDenied):
        services.approve(asked.pk, staff)
    blown = services.approve(asked.pk, world.actor(world.office), assists=[])
    assert blown.status == W.BLOWN
    assert [u.department.code for u in blown.units.all()] == ["ZJ"]
    other = services.request(staff, reason="appeal", title="y", lead="CG", grid=COMMUNITY)
    with pytest.raises(ValidationError):
        services.decline(other.pk, world.actor(world.office), note="")
    assert services.decline(other.pk, world.actor(world.office),
                            note="社区自行解决").status == W.CANCELLED


def test_a_stale_version_is_a_conflict_and_changes_nothing(world):
    whistle = blow(world)
    with pytest.raises(Conflict):
        services.cancel(whistle.pk, world.actor(world.office), note="x", version=99)
    assert Whistle.objects.get(pk=whistle.pk).status == W.BLOWN


def test_the_appeals_timeline_mirrors_the_whistle(world):
    appeal = appeal_at()
    whistle = blow(world, appeal=appeal.tracking, lon=None, lat=None)
    assert whistle.location == appeal.location
    act(world, "CG", "report_in", unit(whistle, "CG"), mode="remote")
    rows = list(AppealEvent.objects.filter(appeal=appeal, kind=AppealEvent.Kind.WHISTLE)
                .order_by("id"))
    assert [r.data["event"] for r in rows] == ["blow", "report_in"]
    assert "城管局" in rows[0].note and "城管局" in rows[1].note
    with pytest.raises(Conflict):  # one open whistle per appeal
        blow(world, appeal=appeal.tracking)


def test_helpers_hours_become_a_service_record_once(world):
    whistle = blow(world, assists=[])
    lead = unit(whistle, "CG")
    act(world, "CG", "report_in", lead, mode="remote")
    volunteer = Volunteer.objects.create(
        user=make_user(), kind=Volunteer.Kind.PARTY_MEMBER, display_name="老王",
        community=world.grids[COMMUNITY])
    with pytest.raises(ValidationError):  # a party member is not recorded as a volunteer
        services.add_helper(whistle.pk, world.actor(world.office), kind="volunteer",
                            volunteer=volunteer.pk)
    services.add_helper(whistle.pk, world.actor(world.office), kind="party_member",
                        volunteer=volunteer.pk)
    helper = WhistleHelper.objects.get(whistle=whistle)
    services.helper_hours(whistle.pk, world.actor(world.office), helper=helper.pk,
                          hours=Decimal("2.5"))
    record = ServiceRecord.objects.get(volunteer=volunteer)
    assert record.hours == Decimal("2.5") and record.status == ServiceRecord.Status.SUBMITTED
    with pytest.raises(Conflict):
        services.helper_hours(whistle.pk, world.actor(world.office), helper=helper.pk,
                              hours=Decimal("1"))
    assert ServiceRecord.objects.filter(volunteer=volunteer).count() == 1


def test_an_emergency_report_in_clock_ignores_the_calendar(world):
    # 2026-10-01 (National Day) 23:50 Shanghai: 30 wall-clock minutes.
    at = dt.datetime(2026, 10, 1, 15, 50, tzinfo=dt.UTC)
    whistle = blow(world, reason="emergency", at=at)
    lead = unit(whistle, "CG")
    assert lead.report_due_at == at + dt.timedelta(minutes=30)
    assert lead.report_warn_at == at + dt.timedelta(minutes=15)


def test_other_clocks_follow_the_working_calendar(world):
    # Friday 2026-12-04 17:00 Shanghai: half an hour of the day left, then the weekend.
    at = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
    whistle = blow(world, at=at)
    lead = unit(whistle, "CG")
    due = lead.report_due_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    # One working day of 7 hours: 0.5 h on Friday, 3.5 h Monday morning, 3 h after lunch.
    assert due == dt.datetime(2026, 12, 7, 17, 0, tzinfo=due.tzinfo)
    # Ten working days: 0.5 h that Friday, nine full days, 6.5 h of the Friday two weeks on.
    assert whistle.due_at == dt.datetime(2026, 12, 18, 17, 0, tzinfo=due.tzinfo)
