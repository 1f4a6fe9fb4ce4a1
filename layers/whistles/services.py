"""The whistle actions: one service function per action, each declared once in a registry.

    blow             the blowing office (subdistrict staff, a dispatcher) → blown, units notified
    request          community staff → requested (the units it asks for wait in `proposal`)
    WHISTLE_ACTIONS  approve, decline (a request) · add_unit · resolve · close · cancel ·
                     add_helper, helper_hours (三方报到)
    UNIT_ACTIONS     report_in, refuse, finish (the department's members) ·
                     release, replace, rate (the blowing office)

States (docs/whistles.md):

    requested → blown | cancelled                 approve / decline
    blown     → working                           when no unit is still only notified
    working   → blown                             a unit added, a lead replaced
    blown, working → resolved                     resolve: lead and every assist done/released
    resolved  → working                           an unsatisfied rating sends a unit back
    resolved  → closed                            close: every unit that did its part rated
    blown, working → cancelled

    unit: notified → reported → done; notified → refused (a reason) → replaced (lead) or
          released; notified, reported → released; done → reported (unsatisfied rating)

Every action runs in one transaction: the whistle row is locked first, then the unit's (the
order the watcher uses too); the actor must see the whistle (else 404), be allowed the action
(403), send the version they read (409), and the whistle and unit states must allow it (409).
The action writes one WhistleEvent and, when the whistle is for an appeal, a mirror row on the
appeal's timeline; the people concerned are notified after commit. A constraint the database
enforces (one lead, one department once, one open whistle per appeal) turns into a 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.errors import Conflict, NotFound, integrity_conflict
from geogrid.hierarchy import Level, code_lengths
from geogrid.models import Grid
from layers.appeals import timeline
from layers.appeals.actors import Actor
from layers.appeals.models import OPEN_STATUSES, Appeal, AppealEvent, Department
from layers.volunteering.models import PartnerUnit, ServiceRecord, Volunteer
from layers.whistles import clocks, notices
from layers.whistles.access import (
    COMMUNITY_ROLE,
    REQUESTING_POSTS,
    as_blower,
    as_member,
    as_unit_blower,
    may_blow_in,
    may_see,
)
from layers.whistles.inputs import (
    AddUnitInput,
    ApproveInput,
    FinishInput,
    HelperInput,
    HoursInput,
    RateInput,
    RefuseInput,
    ReplaceInput,
    ReportInput,
)
from layers.whistles.models import (
    Rating,
    Whistle,
    WhistleEvent,
    WhistleHelper,
    WhistleUnit,
)
from layers.whistles.models import (
    Role as UnitRole,
)

WHISTLE_ACTIONS = ActionRegistry("whistle")
UNIT_ACTIONS = ActionRegistry("whistle_unit")
W = Whistle.Status
U = WhistleUnit.Status
# An on-site report-in this far from the whistle's place is recorded with a warning in its data.
ON_SITE_METRES = 500


# -- the frame --------------------------------------------------------------------------------
@dataclass
class Step:
    whistle: Whistle
    actor: Actor
    role: str
    action: str
    at: dt.datetime
    unit: WhistleUnit | None = None
    note: str = ""
    data: dict = field(default_factory=dict)
    notices: list[tuple[list[int], dict]] = field(default_factory=list)

    def notify(self, users: list[int], **data: Any) -> None:
        self.notices.append((users, data))


def _lock_whistle(pk: int) -> Whistle:
    found = (Whistle.objects.select_for_update(of=("self",))
             .select_related("subdistrict", "requested_by_grid", "appeal").filter(pk=pk).first())
    if found is None:
        raise NotFound(_("no such whistle"))
    return found


def _check(rule_who: Any, label: Any, actor: Actor, obj: Any, whistle: Whistle) -> str:
    if not may_see(actor, whistle):
        raise NotFound(_("no such whistle"))
    role = rule_who(actor, obj)
    if not role:
        raise PermissionDenied(_("you may not take this action: %(a)s") % {"a": label})
    return str(role)


def _version(obj: Whistle | WhistleUnit, version: int | None) -> None:
    if version is not None and version != obj.version:
        raise Conflict(_("it was changed by someone else (version %(now)d, you sent %(sent)d); "
                         "reload it") % {"now": obj.version, "sent": version},
                       current={"status": obj.status, "version": obj.version})


def _state(ok: bool, label: Any, status: str) -> None:
    if not ok:
        raise Conflict(_("%(a)s is not possible now: it is %(s)s") % {"a": label, "s": status},
                       current={"status": status})


@contextmanager
def _whistle_step(pk: int, actor: Actor, name: str, version: int | None,
                  at: dt.datetime | None) -> Iterator[Step]:
    rule = WHISTLE_ACTIONS[name]
    try:
        with transaction.atomic():
            whistle = _lock_whistle(pk)
            role = _check(rule.who, rule.label, actor, whistle, whistle)
            _version(whistle, version)
            _state(whistle.status in rule.sources, rule.label, whistle.get_status_display())
            step = Step(whistle=whistle, actor=actor, role=role, action=name,
                        at=at or timezone.now())
            yield step
            _finish(step)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    _send(step)


# Whistle states in which each unit action may run (the unit's own states are its sources).
UNIT_ACTION_WHISTLE_STATES: dict[str, tuple[str, ...]] = {
    "report_in": Whistle.RUNNING, "refuse": Whistle.RUNNING, "finish": Whistle.RUNNING,
    "release": Whistle.RUNNING, "replace": Whistle.RUNNING, "rate": (W.WORKING, W.RESOLVED),
}


@contextmanager
def _unit_step(pk: int, actor: Actor, name: str, version: int | None,
               at: dt.datetime | None) -> Iterator[Step]:
    rule = UNIT_ACTIONS[name]
    whistle_id = WhistleUnit.objects.filter(pk=pk).values_list("whistle_id", flat=True).first()
    if whistle_id is None:
        raise NotFound(_("no such unit"))
    try:
        with transaction.atomic():
            whistle = _lock_whistle(whistle_id)
            unit = (WhistleUnit.objects.select_for_update(of=("self",))
                    .select_related("department").get(pk=pk))
            unit.whistle = whistle
            role = _check(rule.who, rule.label, actor, unit, whistle)
            _version(unit, version)
            _state(unit.status in rule.sources, rule.label, unit.get_status_display())
            _state(whistle.status in UNIT_ACTION_WHISTLE_STATES[name], rule.label,
                   whistle.get_status_display())
            step = Step(whistle=whistle, actor=actor, role=role, action=name,
                        at=at or timezone.now(), unit=unit)
            yield step
            unit.version += 1
            unit.save()
            _finish(step)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    _send(step)


def _finish(step: Step) -> None:
    """Derive the whistle's state from its units, save it, write the timeline rows."""
    whistle = step.whistle
    if whistle.status in Whistle.RUNNING:
        waiting = whistle.units.filter(status__in=(U.NOTIFIED, U.REFUSED)).exists()
        whistle.status = W.BLOWN if waiting else W.WORKING
    whistle.version += 1
    whistle.save()
    _event(step)


def _event(step: Step, kind: str | None = None) -> WhistleEvent:
    unit = step.unit
    data = dict(step.data)
    if unit is not None:
        data.setdefault("department", unit.department.code)
        data.setdefault("unit_role", unit.role)
    event = WhistleEvent.objects.create(
        whistle=step.whistle, unit=unit, kind=kind or step.action, at=step.at,
        actor=step.actor.user_or_none, actor_role=step.role, note=step.note, data=data)
    appeal = step.whistle.appeal
    if appeal is not None:
        timeline.record(appeal, AppealEvent.Kind.WHISTLE, role=step.role, actor=event.actor,
                        at=step.at, note=notices.mirror_text(step.whistle, event),
                        data={"whistle": step.whistle.code, "event": event.kind, **data})
    return event


def _send(step: Step) -> None:
    for users, data in step.notices:
        notices.send(users, step.whistle, **data)


# -- helpers ----------------------------------------------------------------------------------
def _department(code: str, district: str, name: str) -> Department:
    found = Department.objects.filter(code=code, active=True).filter(
        Q(district_code="") | Q(district_code=district)).first()
    if found is None:
        raise ValidationError({name: _("no such active department in this district: %(c)s")
                               % {"c": code}})
    return found


def _units_wanted(lead: str, assists: list[str], district: str) -> list[tuple[Department, str]]:
    if lead in assists or len(set(assists)) != len(assists):
        raise ValidationError({"assists": _("name each department once, the lead not again")})
    wanted: list[tuple[Department, str]] = [(_department(lead, district, "lead"),
                                             UnitRole.LEAD)]
    wanted += [(_department(c, district, "assists"), UnitRole.ASSIST) for c in assists]
    return wanted


def _notify_unit(step: Step, unit: WhistleUnit) -> None:
    members = list(unit.department.members.filter(is_active=True).values_list("id", flat=True))
    step.notify(members, event="called_in", department=unit.department.code,
                role=unit.role, due=unit.report_due_at.isoformat())


def _call_in(step: Step, department: Department, role: str) -> WhistleUnit:
    due, warn = clocks.report_clock(step.whistle.reason, step.at)
    unit = WhistleUnit.objects.create(
        whistle=step.whistle, department=department, role=role, notified_at=step.at,
        report_due_at=due, report_warn_at=warn)
    unit.department = department
    _notify_unit(step, unit)
    return unit


def _appeal(ref: str) -> Appeal:
    appeal = (Appeal.objects.by_ref(ref).select_related("grid").first() if ref else None)
    if appeal is None:
        raise ValidationError({"appeal": _("no such appeal")})
    if appeal.status not in OPEN_STATUSES:
        raise ValidationError({"appeal": _("the appeal is no longer open")})
    return appeal


def _grid_at(code: str, levels: tuple[int, ...], name: str) -> Grid:
    grid = Grid.objects.current().filter(code=code, level__in=levels).first()
    if grid is None:
        raise ValidationError({name: _("no such current grid at that level: %(c)s") % {"c": code}})
    return grid


def _place(lon: float | None, lat: float | None, appeal: Appeal | None) -> Point | None:
    if (lon is None) != (lat is None):
        raise ValidationError({"lat": _("give both coordinates or neither")})
    if lon is not None and lat is not None:
        return Point(lon, lat, srid=4326)
    return appeal.location if appeal is not None else None


def _where(grid: str, place: Point | None, appeal: Appeal | None, level: int) -> Grid:
    """The grid at `level` the whistle belongs to: named, or where the appeal or place lies."""
    if grid:
        return _grid_at(grid, (level,), "grid")
    code = appeal.grid.code if appeal is not None and appeal.grid is not None else ""
    if not code and place is not None:
        code = (Grid.objects.current().filter(level=Level.MICRO_GRID, boundary__covers=place)
                .order_by("code").values_list("code", flat=True).first() or "")
    width = code_lengths()[level]
    if len(code) < width:
        raise ValidationError({"grid": _("name the grid: the place lies in no grid")})
    return _grid_at(code[:width], (level,), "grid")


def _district(code: str) -> str:
    return code[:code_lengths()[Level.DISTRICT]]


def _new_whistle(actor: Actor, *, subdistrict: Grid, status: str, reason: str, title: str,
                 description: str, appeal: Appeal | None, place: Point | None,
                 at: dt.datetime, **extra: Any) -> Whistle:
    whistle = Whistle.objects.create(
        code=f"new-{timezone.now().timestamp()}", district_code=_district(subdistrict.code),
        subdistrict=subdistrict, appeal=appeal, reason=reason, title=title,
        description=description, location=place, status=status, created_by=actor.user,
        created_at=at, **extra)
    whistle.code = f"{whistle.district_code}-W{whistle.pk:06d}"
    whistle.save(update_fields=["code"])
    return whistle


def _blow_now(step: Step, wanted: list[tuple[Department, str]]) -> None:
    whistle = step.whistle
    whistle.blown_by, whistle.blown_at = step.actor.user_or_none, step.at
    whistle.due_at, whistle.warn_at = clocks.completion_clock(whistle.reason, step.at)
    whistle.status = W.BLOWN
    units = [_call_in(step, d, role) for d, role in wanted]
    step.data.update({"lead": units[0].department.code,
                      "assists": [u.department.code for u in units[1:]],
                      "due_at": whistle.due_at.isoformat()})


# -- blowing and requesting -------------------------------------------------------------------
def blow(actor: Actor, *, reason: str, title: str, lead: str, assists: list[str] | None = None,
         description: str = "", appeal: str = "", grid: str = "", lon: float | None = None,
         lat: float | None = None, note: str = "", at: dt.datetime | None = None) -> Whistle:
    """吹哨: the blowing office calls in one lead department and any assisting ones."""
    at = at or timezone.now()
    linked = _appeal(appeal) if appeal else None
    place = _place(lon, lat, linked)
    subdistrict = _where(grid, place, linked, Level.SUBDISTRICT)
    role = may_blow_in(actor, subdistrict.code)
    if not role:
        raise PermissionDenied(_("only the subdistrict's office or its dispatchers blow here"))
    wanted = _units_wanted(lead, list(assists or []), _district(subdistrict.code))
    try:
        with transaction.atomic():
            whistle = _new_whistle(actor, subdistrict=subdistrict, status=W.BLOWN, reason=reason,
                                   title=title, description=description, appeal=linked,
                                   place=place, at=at)
            step = Step(whistle=whistle, actor=actor, role=role, action="blow", at=at,
                        note=note)
            _blow_now(step, wanted)
            whistle.save()
            _event(step)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    _send(step)
    return whistle


def request(actor: Actor, *, reason: str, title: str, lead: str,
            assists: list[str] | None = None, description: str = "", appeal: str = "",
            grid: str = "", lon: float | None = None, lat: float | None = None, note: str = "",
            at: dt.datetime | None = None) -> Whistle:
    """A community asks its subdistrict to blow (it cannot call departments in itself)."""
    at = at or timezone.now()
    linked = _appeal(appeal) if appeal else None
    place = _place(lon, lat, linked)
    community = _where(grid, place, linked, Level.COMMUNITY)
    if not actor.covers(community.code, REQUESTING_POSTS):
        raise PermissionDenied(_("only the community's staff request a whistle here"))
    subdistrict = _grid_at(community.code[:code_lengths()[Level.SUBDISTRICT]],
                           (Level.SUBDISTRICT,), "grid")
    _units_wanted(lead, list(assists or []), _district(community.code))  # called in later
    try:
        with transaction.atomic():
            whistle = _new_whistle(
                actor, subdistrict=subdistrict, status=W.REQUESTED, reason=reason, title=title,
                description=description, appeal=linked, place=place, at=at,
                requested_by_grid=community,
                proposal={"lead": lead, "assists": list(assists or [])})
            step = Step(whistle=whistle, actor=actor, role=COMMUNITY_ROLE,
                        action="request", at=at, note=note, data={"proposal": whistle.proposal})
            _event(step)
            step.notify(notices.blowing_office(subdistrict.code), event="requested")
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    _send(step)
    return whistle


# -- whistle actions --------------------------------------------------------------------------
@WHISTLE_ACTIONS.action("approve", label=gettext_lazy("Approve and blow"),
                        sources=(W.REQUESTED,), who=as_blower, inputs=ApproveInput)
def approve(ref: int, actor: Actor, *, lead: str = "", assists: list[str] | None = None,
            version: int | None = None, note: str = "", at: dt.datetime | None = None
            ) -> Whistle:
    """The subdistrict approves a community's request (it may change the units) and blows."""
    with _whistle_step(ref, actor, "approve", version, at) as step:
        proposal = step.whistle.proposal or {}
        wanted = _units_wanted(lead or proposal.get("lead", ""),
                               list(proposal.get("assists", []) if assists is None else assists),
                               step.whistle.district_code)
        step.note = note
        _blow_now(step, wanted)
    return step.whistle


@WHISTLE_ACTIONS.action("decline", label=gettext_lazy("Decline the request"),
                        sources=(W.REQUESTED,), who=as_blower, note="required")
def decline(ref: int, actor: Actor, *, note: str = "", version: int | None = None,
            at: dt.datetime | None = None) -> Whistle:
    """The subdistrict declines a community's request, saying why."""
    with _whistle_step(ref, actor, "decline", version, at) as step:
        step.note = _required(note, "note")
        step.whistle.status = W.CANCELLED
        step.notify(notices.requesters(step.whistle), event="declined")
    return step.whistle


@WHISTLE_ACTIONS.action("add_unit", label=gettext_lazy("Call in another department"),
                        sources=Whistle.RUNNING, who=as_blower, inputs=AddUnitInput)
def add_unit(ref: int, actor: Actor, *, department: str, version: int | None = None,
             note: str = "", at: dt.datetime | None = None) -> Whistle:
    """Another assisting department reports in too (its own report-in clock starts now)."""
    with _whistle_step(ref, actor, "add_unit", version, at) as step:
        dep = _department(department, step.whistle.district_code, "department")
        step.note = note
        step.unit = _call_in(step, dep, UnitRole.ASSIST)
    return step.whistle


@WHISTLE_ACTIONS.action("resolve", label=gettext_lazy("Resolve"), sources=Whistle.RUNNING,
                        who=as_blower)
def resolve(ref: int, actor: Actor, *, version: int | None = None, note: str = "",
            at: dt.datetime | None = None) -> Whistle:
    """事不完人不撤: only when the lead and every assisting unit are done or released."""
    with _whistle_step(ref, actor, "resolve", version, at) as step:
        still = list(step.whistle.units.exclude(status__in=(*WhistleUnit.FINISHED, U.REPLACED))
                     .values_list("department__code", flat=True))
        if still:
            raise Conflict(_("units are still at work: %(d)s") % {"d": ", ".join(still)},
                           current={"status": step.whistle.status, "open_units": still})
        step.note = note
        step.whistle.status, step.whistle.resolved_at = W.RESOLVED, step.at
    return step.whistle


@WHISTLE_ACTIONS.action("close", label=gettext_lazy("Close"), sources=(W.RESOLVED,),
                        who=as_blower)
def close(ref: int, actor: Actor, *, version: int | None = None, note: str = "",
          at: dt.datetime | None = None) -> Whistle:
    """Closing needs the evaluation: every unit that did its part is rated."""
    with _whistle_step(ref, actor, "close", version, at) as step:
        unrated = list(step.whistle.units.filter(status=U.DONE, rating="")
                       .values_list("department__code", flat=True))
        if unrated:
            raise Conflict(_("rate every unit first: %(d)s") % {"d": ", ".join(unrated)},
                           current={"status": step.whistle.status, "unrated": unrated})
        step.note = note
        step.whistle.status, step.whistle.closed_at = W.CLOSED, step.at
    return step.whistle


@WHISTLE_ACTIONS.action("cancel", label=gettext_lazy("Cancel"), sources=Whistle.RUNNING,
                        who=as_blower, note="required")
def cancel(ref: int, actor: Actor, *, note: str = "", version: int | None = None,
           at: dt.datetime | None = None) -> Whistle:
    """Blown by mistake, or settled otherwise: the units are told to stand down."""
    with _whistle_step(ref, actor, "cancel", version, at) as step:
        step.note = _required(note, "note")
        step.whistle.status = W.CANCELLED
        users = notices.unit_members(step.whistle.units.filter(status__in=WhistleUnit.OPEN))
        step.notify(users, event="cancelled")
    return step.whistle


@WHISTLE_ACTIONS.action("add_helper", label=gettext_lazy("Record a helper reporting in"),
                        sources=Whistle.RUNNING, who=as_blower, inputs=HelperInput)
def add_helper(ref: int, actor: Actor, *, kind: str, volunteer: int | None = None,
               partner_unit: int | None = None, version: int | None = None, note: str = "",
               at: dt.datetime | None = None) -> Whistle:
    """三方报到: an on-duty party member, a volunteer or a partner unit came to help."""
    with _whistle_step(ref, actor, "add_helper", version, at) as step:
        helper = WhistleHelper(whistle=step.whistle, kind=kind, reported_at=step.at)
        if kind == WhistleHelper.Kind.PARTNER_UNIT:
            helper.partner_unit = (PartnerUnit.objects.filter(pk=partner_unit, active=True).first()
                                   if partner_unit else None)
            if helper.partner_unit is None:
                raise ValidationError({"partner_unit": _("no such active partner unit")})
        else:
            helper.volunteer = (Volunteer.objects.filter(pk=volunteer, active=True).first()
                                if volunteer else None)
            if helper.volunteer is None:
                raise ValidationError({"volunteer": _("no such active volunteer")})
            party = helper.volunteer.kind == Volunteer.Kind.PARTY_MEMBER
            if party != (kind == WhistleHelper.Kind.PARTY_MEMBER):
                raise ValidationError({"kind": _("the volunteer is not of that kind")})
        helper.save()
        step.note = note
        step.data = {"helper": helper.pk, "kind": kind}
    return step.whistle


@WHISTLE_ACTIONS.action("helper_hours", label=gettext_lazy("Record a helper's hours"),
                        sources=(W.WORKING, W.RESOLVED, W.CLOSED), who=as_blower,
                        inputs=HoursInput)
def helper_hours(ref: int, actor: Actor, *, helper: int, hours: Decimal,
                 version: int | None = None, note: str = "", at: dt.datetime | None = None
                 ) -> Whistle:
    """A volunteer's hours become a service record that staff verify (then points), once."""
    with _whistle_step(ref, actor, "helper_hours", version, at) as step:
        row = (WhistleHelper.objects.select_for_update(of=("self",)).select_related("volunteer")
               .filter(pk=helper, whistle=step.whistle).first())
        if row is None:
            raise ValidationError({"helper": _("no such helper on this whistle")})
        if row.volunteer is None:
            raise ValidationError({"helper": _("a partner unit earns no points")})
        if row.service_record_id is not None:
            raise Conflict(_("this helper's hours are recorded already"))
        whistle = step.whistle
        place = whistle.requested_by_grid or row.volunteer.community
        row.hours = hours
        row.service_record = ServiceRecord.objects.create(
            volunteer=row.volunteer, activity=f"吹哨报到 {whistle.code}"[:100], grid=place,
            served_on=timezone.localdate(step.at), hours=hours, submitted_by=actor.user)
        row.save(update_fields=["hours", "service_record"])
        step.note = note
        step.data = {"helper": row.pk, "hours": str(hours)}
    return step.whistle


# -- unit actions -----------------------------------------------------------------------------
@UNIT_ACTIONS.action("report_in", label=gettext_lazy("Report in"), sources=(U.NOTIFIED,),
                     who=as_member, inputs=ReportInput)
def report_in(ref: int, actor: Actor, *, mode: str, lon: float | None = None,
              lat: float | None = None, version: int | None = None, note: str = "",
              at: dt.datetime | None = None) -> WhistleUnit:
    """报到: on site with the phone's location, or accepting remotely."""
    with _unit_step(ref, actor, "report_in", version, at) as step:
        unit = step.unit
        assert unit is not None
        if mode == WhistleUnit.ReportMode.ON_SITE:
            if lon is None or lat is None:
                raise ValidationError({"lon": _("on site needs the phone's location")})
            unit.report_point = Point(lon, lat, srid=4326)
            unit.report_distance_m = _distance_m(step.whistle, unit.report_point)
        unit.status, unit.report_mode = U.REPORTED, mode
        unit.reported_at, unit.reported_by = step.at, actor.user_or_none
        step.note = note
        step.data = {"mode": mode, "late": step.at > unit.report_due_at,
                     "distance_m": unit.report_distance_m,
                     "far": (unit.report_distance_m or 0) > ON_SITE_METRES}
        step.notify(notices.blowing_office(step.whistle.subdistrict.code), event="reported",
                    department=unit.department.code)
    return unit


def _distance_m(whistle: Whistle, point: Point) -> float | None:
    if whistle.location is None:
        return None
    return (Whistle.objects.filter(pk=whistle.pk)
            .annotate(d=Distance("location", point, spheroid=True))
            .values_list("d", flat=True).first()).m  # type: ignore[union-attr]


@UNIT_ACTIONS.action("refuse", label=gettext_lazy("Refuse"), sources=(U.NOTIFIED,),
                     who=as_member, inputs=RefuseInput, note="none")
def refuse(ref: int, actor: Actor, *, reason: str, version: int | None = None,
           at: dt.datetime | None = None) -> WhistleUnit:
    """Not ours: a refusal needs a reason; the blowing office replaces a refusing lead."""
    with _unit_step(ref, actor, "refuse", version, at) as step:
        unit = step.unit
        assert unit is not None
        unit.status, unit.refused_reason = U.REFUSED, _required(reason, "reason")
        step.note = unit.refused_reason
        step.notify(notices.blowing_office(step.whistle.subdistrict.code)
                    + notices.district_dispatchers(step.whistle.district_code),
                    event="refused", department=unit.department.code, role=unit.role)
    return unit


@UNIT_ACTIONS.action("finish", label=gettext_lazy("Our part is done"), sources=(U.REPORTED,),
                     who=as_member, inputs=FinishInput)
def finish(ref: int, actor: Actor, *, result: str, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> WhistleUnit:
    """The unit's part is done, with what it did."""
    with _unit_step(ref, actor, "finish", version, at) as step:
        unit = step.unit
        assert unit is not None
        unit.status, unit.done_at, unit.result = U.DONE, step.at, _required(result, "result")
        step.note = note
        step.data = {"result": unit.result}
        step.notify(notices.blowing_office(step.whistle.subdistrict.code), event="done",
                    department=unit.department.code)
    return unit


@UNIT_ACTIONS.action("release", label=gettext_lazy("Release"),
                     sources=(U.NOTIFIED, U.REPORTED, U.REFUSED), who=as_unit_blower,
                     note="required")
def release(ref: int, actor: Actor, *, note: str = "", version: int | None = None,
            at: dt.datetime | None = None) -> WhistleUnit:
    """The blowing office lets a unit go (not needed any more, or a refusal accepted)."""
    with _unit_step(ref, actor, "release", version, at) as step:
        unit = step.unit
        assert unit is not None
        step.note = _required(note, "note")
        unit.status, unit.released_at = U.RELEASED, step.at
        step.notify(notices.unit_members([unit]), event="released")
    return unit


@UNIT_ACTIONS.action("replace", label=gettext_lazy("Replace the department"),
                     sources=(U.NOTIFIED, U.REFUSED), who=as_unit_blower, inputs=ReplaceInput)
def replace(ref: int, actor: Actor, *, department: str, version: int | None = None,
            note: str = "", at: dt.datetime | None = None) -> WhistleUnit:
    """Another department takes the unit's place and role (a refusing lead above all)."""
    with _unit_step(ref, actor, "replace", version, at) as step:
        unit = step.unit
        assert unit is not None
        dep = _department(department, step.whistle.district_code, "department")
        unit.status = U.REPLACED
        unit.save(update_fields=["status"])  # free the one-lead slot before the new unit
        new = _call_in(step, dep, unit.role)
        step.note = note
        step.data = {"replaced_by": dep.code, "new_unit": new.pk}
    return new


@UNIT_ACTIONS.action("rate", label=gettext_lazy("Rate"), sources=(U.DONE,),
                     who=as_unit_blower, inputs=RateInput)
def rate(ref: int, actor: Actor, *, rating: str, speed: int, quality: int,
         version: int | None = None, note: str = "", at: dt.datetime | None = None
         ) -> WhistleUnit:
    """四位评价 by the blowing office; unsatisfied sends the unit's part back."""
    with _unit_step(ref, actor, "rate", version, at) as step:
        unit = step.unit
        assert unit is not None
        unit.rating, unit.speed, unit.quality, unit.rated_at = rating, speed, quality, step.at
        step.note = note
        step.data = {"rating": rating, "speed": speed, "quality": quality}
        if rating == Rating.UNSATISFIED:
            unit.status, unit.done_at, unit.sent_back = U.REPORTED, None, unit.sent_back + 1
            if step.whistle.status == W.RESOLVED:
                step.whistle.status, step.whistle.resolved_at = W.WORKING, None
            step.notify(notices.unit_members([unit]), event="sent_back")
    return unit


def _required(text: str, name: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({name: _("this is required")})
    return text

