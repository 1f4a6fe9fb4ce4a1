"""The care actions: one service function per action, each declared once in a registry.

    enrol                 propose to enrol a person (creates the subject, status proposed)
    SUBJECT_ACTIONS       on a subject: reassess, exit (proposals), trigger (必要访),
                          record_visit, add_visitor, end_visitor
    PROPOSAL_ACTIONS      on a proposal: approve, reject — by someone other than the proposer
    order_extra_round     community staff order an extra round over a grid subtree

Every action runs in one transaction through `_acting`: the row is locked, the viewer's right
is checked (a subject the viewer cannot see → 404, one they see but may not change → 403), the
state, then the body, which writes its timeline row (CareEvent). A failure anywhere — a
constraint the database enforces, a follow-up appeal that cannot be raised — rolls the whole
action back, files included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.capabilities import Capability
from geogrid.errors import Conflict, NotFound, integrity_conflict
from geogrid.models import Grid
from geogrid.photos import clean_photos
from layers.appeals.photos import deleting_on_failure
from layers.care import notices, plan
from layers.care.access import CareViewer, Home, Level, home_of, persons_in
from layers.care.inputs import (
    EndVisitorInput,
    ExitInput,
    ReassessInput,
    TriggerInput,
    VisitInput,
    VisitorInput,
)
from layers.care.models import (
    CareEvent,
    CareGroup,
    CareProposal,
    CareSubject,
    CareVisitor,
    ExtraRound,
    Visit,
    VisitDue,
)
from layers.care.photos import store_visit_photos
from layers.care.points import award_visit
from layers.people.access import open_terms
from layers.people.models import BuildingLeaderTerm, MicroUnitLeaderTerm, Person

SUBJECT_ACTIONS = ActionRegistry("care_subject")
PROPOSAL_ACTIONS = ActionRegistry("care_proposal")
S = CareSubject.Status
OPEN_SUBJECT = (S.PROPOSED, S.ACTIVE)
Kind = CareEvent.Kind


# -- who may act ----------------------------------------------------------------------------
def subject_home(subject: CareSubject) -> Home:
    """The subject's home, read once per object."""
    if not hasattr(subject, "_home"):
        subject._home = home_of(subject)  # type: ignore[attr-defined]
    return subject._home  # type: ignore[attr-defined]


def as_care_worker(viewer: CareViewer, subject: CareSubject) -> str | None:
    code = subject_home(subject).grid_code
    if viewer.may(Capability.CARE_SUBTREE, code):
        return "care_staff"
    return "grid_worker" if viewer.may(Capability.CARE_GRID, code) else None


def as_visitor(viewer: CareViewer, subject: CareSubject) -> str | None:
    """Grid workers and care staff in scope, and the subject's assigned visitors."""
    role = as_care_worker(viewer, subject)
    if role:
        return role
    return "visitor" if subject.pk in viewer.visiting_ids else None


def as_approver(viewer: CareViewer, proposal: CareProposal) -> str | None:
    code = subject_home(proposal.subject).grid_code
    return "care_staff" if viewer.may(Capability.CARE_SUBTREE, code) else None


def _visible(viewer: CareViewer, obj: Any) -> bool:
    subject = obj.subject if isinstance(obj, CareProposal) else obj
    return viewer.level(subject, subject_home(subject)) != Level.NONE


# -- the frame ------------------------------------------------------------------------------
@dataclass
class Step:
    obj: Any
    viewer: CareViewer
    at: dt.datetime
    role: str

    @property
    def user(self) -> Any:
        return self.viewer.user


@contextmanager
def _acting(registry: ActionRegistry, model: Any, pk: int, viewer: CareViewer,
            name: str) -> Iterator[Step]:
    action = registry[name]
    try:
        with transaction.atomic():
            try:
                obj = model.objects.select_for_update(of=("self",)).get(pk=pk)
            except model.DoesNotExist as exc:
                raise NotFound(_("not found")) from exc
            role = action.who(viewer, obj)
            if not role:
                if not _visible(viewer, obj):
                    raise NotFound(_("not found"))
                raise PermissionDenied(_("you may not %(action)s here") % {"action": name})
            state = obj.outcome if isinstance(obj, CareProposal) else obj.status
            if state not in action.sources:
                raise Conflict(_("not possible in state %(s)s") % {"s": state},
                               current={"state": state})
            yield Step(obj, viewer, timezone.now(), role)
            obj.version += 1
            obj.save(update_fields=["version"])
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _event(subject: CareSubject, event: str, at: dt.datetime, actor=None, role: str = "",
           /, **data: Any) -> CareEvent:
    """A timeline row; `data` never holds a name or an identifier."""
    return CareEvent.objects.create(subject=subject, kind=event, at=at, actor=actor, role=role,
                                    data=data)


def _propose(step: Step, subject: CareSubject, kind: str, reason: str, colour: str = "",
             groups: list[str] | None = None) -> CareProposal:
    proposal = CareProposal.objects.create(subject=subject, kind=kind, colour=colour,
                                           groups=groups or [], reason=reason,
                                           proposed_by=step.user, proposed_at=step.at)
    _event(subject, Kind.PROPOSED, step.at, step.user, step.role, proposal=proposal.pk,
           kind=kind, colour=colour, groups=groups or [])
    notices.proposal_waiting(proposal, subject_home(subject).grid_code)
    return proposal


# -- enrolment ------------------------------------------------------------------------------
def enrol(viewer: CareViewer, *, person: int, groups: list[str], colour: str,
          colour_reason: str, notice_given_on: dt.date | None = None, notice_method: str = "",
          visitors: list[dict] | None = None) -> CareSubject:
    """Propose to enrol a person of the viewer's grids; care staff approve (another person)."""
    try:
        with transaction.atomic():
            found = (Person.objects.select_for_update().filter(pk=person, died_on__isnull=True)
                     .filter(Q() if viewer.is_super else persons_in(viewer.full_roots, "pk"))
                     .first())
            if found is None:
                raise NotFound(_("no such person in your grids"))
            subject = CareSubject.objects.create(
                person=found, colour=colour, colour_reason=colour_reason,
                notice_given_on=notice_given_on, notice_method=notice_method)
            subject.groups.set(CareGroup.objects.filter(code__in=groups))
            step = Step(subject, viewer, timezone.now(), "")
            step.role = as_care_worker(viewer, subject) or ""
            if not step.role:
                raise NotFound(_("no such person in your grids"))
            for visitor in visitors or []:
                _add_visitor(step, subject, visitor["user"], visitor["role"])
            _propose(step, subject, CareProposal.Kind.ENROL, colour_reason, colour, groups)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    return subject


# -- subject actions ------------------------------------------------------------------------
def _subject(ref: int, viewer: CareViewer, name: str):
    return _acting(SUBJECT_ACTIONS, CareSubject, ref, viewer, name)


@SUBJECT_ACTIONS.action("reassess", label=gettext_lazy("Propose a new colour or groups"),
                        sources=(S.ACTIVE,), who=as_care_worker, inputs=ReassessInput,
                        version=False, note="none")
def reassess(ref: int, viewer: CareViewer, *, colour: str, groups: list[str], reason: str,
             version: int | None = None) -> CareProposal:
    """A new colour and/or groups, with the reason; applied when care staff approve."""
    with _subject(ref, viewer, "reassess") as step:
        return _propose(step, step.obj, CareProposal.Kind.REASSESS, reason, colour, groups)


@SUBJECT_ACTIONS.action("exit", label=gettext_lazy("Propose to end care"),
                        sources=(S.ACTIVE,), who=as_care_worker, inputs=ExitInput,
                        version=False, note="none")
def exit_care(ref: int, viewer: CareViewer, *, reason: str,
              version: int | None = None) -> CareProposal:
    """End the subject's care (moved away, no longer in a group, died…); approved by staff."""
    with _subject(ref, viewer, "exit") as step:
        return _propose(step, step.obj, CareProposal.Kind.EXIT, reason)


@SUBJECT_ACTIONS.action("trigger", label=gettext_lazy("Something happened: visit within 24 h"),
                        sources=(S.ACTIVE,), who=as_visitor, inputs=TriggerInput,
                        version=False)
def trigger(ref: int, viewer: CareViewer, *, trigger: str, note: str = "",
            version: int | None = None) -> VisitDue:
    """A 必要访 is due within 24 hours: the visitors and the grid worker are told at once."""
    with _subject(ref, viewer, "trigger") as step:
        due = plan.add_necessary(step.obj, trigger, step.at, step.user, note)
        _event(step.obj, Kind.TRIGGERED, step.at, step.user, step.role, trigger=trigger,
               due=due.due_at.isoformat())
        notices.necessary_visit(due, subject_home(step.obj).grid_code)
        return due


def _add_visitor(step: Step, subject: CareSubject, user_id: int, role: str) -> CareVisitor:
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationError({"user": _("no such active user")})
    home = subject_home(subject)
    R = CareVisitor.Role
    fits: Callable[[], bool] | None = {
        R.BUILDING_LEADER: lambda: open_terms(BuildingLeaderTerm, user)
        .filter(building_id=home.building_id).exists(),
        R.MICRO_UNIT_LEADER: lambda: open_terms(MicroUnitLeaderTerm, user)
        .filter(micro_unit_id=home.micro_unit_id).exists(),
        R.GRID_WORKER: lambda: CareViewer(user).may(Capability.CARE_GRID, home.grid_code),
    }.get(R(role))
    if fits is not None and not fits():
        raise ValidationError({"role": _("this user is not the %(role)s of the subject's home")
                               % {"role": CareVisitor.Role(role).label}})
    visitor = CareVisitor.objects.create(subject=subject, user=user, role=role,
                                         since=timezone.localdate())
    _event(subject, Kind.VISITOR_ADDED, step.at, step.user, step.role, user=user.pk,
           visitor_role=role)
    return visitor


@SUBJECT_ACTIONS.action("add_visitor", label=gettext_lazy("Add a visitor"),
                        sources=OPEN_SUBJECT, who=as_care_worker, inputs=VisitorInput,
                        version=False, note="none")
def add_visitor(ref: int, viewer: CareViewer, *, user: int, role: str,
                version: int | None = None) -> CareVisitor:
    """A grid worker, building or micro-unit leader of the home, a volunteer or a party-member
    household visits the subject from now on (and sees the subject, never the groups)."""
    with _subject(ref, viewer, "add_visitor") as step:
        return _add_visitor(step, step.obj, user, role)


@SUBJECT_ACTIONS.action("end_visitor", label=gettext_lazy("End a visitor"),
                        sources=OPEN_SUBJECT, who=as_care_worker, inputs=EndVisitorInput,
                        version=False, note="none")
def end_visitor(ref: int, viewer: CareViewer, *, user: int,
                version: int | None = None) -> CareVisitor:
    with _subject(ref, viewer, "end_visitor") as step:
        row = CareVisitor.objects.filter(subject=step.obj, user_id=user,
                                         until__isnull=True).first()
        if row is None:
            raise ValidationError({"user": _("not a current visitor of this subject")})
        row.until = max(row.since, timezone.localdate())
        row.save(update_fields=["until"])
        _event(step.obj, Kind.VISITOR_ENDED, step.at, step.user, step.role, user=user)
        return row


@SUBJECT_ACTIONS.action("record_visit", label=gettext_lazy("Record a visit"),
                        sources=(S.ACTIVE,), who=as_visitor, inputs=VisitInput, version=False)
def record_visit(ref: int, viewer: CareViewer, *, kind: str, mode: str,
                 started_at: dt.datetime, ended_at: dt.datetime, lon: float | None = None,
                 lat: float | None = None, accuracy_m: float | None = None, living: str,
                 safety: str, family_care: str, services: str, living_note: str = "",
                 safety_note: str = "", family_care_note: str = "", services_note: str = "",
                 suggested_colour: str = "", appeal_category: str = "", appeal_text: str = "",
                 photos: list | tuple = (), note: str = "", wish: dict | None = None,
                 version: int | None = None) -> Visit:
    """The visit as recorded on the phone. Far from the home (上门 only) it is flagged; when its
    mode counts for the colour it meets the open dues and restarts the clock; an urgent finding
    raises the follow-up appeal and a 必要访 within 24 hours; a need a volunteer could meet
    raises a micro-wish for the household (`wish`) — all in this one transaction."""
    cleaned = clean_photos(list(photos))
    with deleting_on_failure() as saved, _subject(ref, viewer, "record_visit") as step:
        subject: CareSubject = step.obj
        home = subject_home(subject)
        point = Point(lon, lat, srid=4326) if lon is not None and lat is not None else None
        distance = _distance_m(point, home.location)
        far = (mode == Visit.Mode.HOME and distance is not None
               and distance > plan.care_setting("FAR_METRES"))
        appeal = _follow_up(viewer, home, appeal_category, appeal_text)
        visit = Visit.objects.create(
            subject=subject, recorded_by=step.user, visitor_role=step.role, kind=kind,
            mode=mode, started_at=started_at, ended_at=ended_at, location=point,
            accuracy_m=accuracy_m if point else None, distance_m=distance, far=far,
            living=living, living_note=living_note, safety=safety, safety_note=safety_note,
            family_care=family_care, family_care_note=family_care_note, services=services,
            services_note=services_note, suggested_colour=suggested_colour, note=note[:1000],
            counts=plan.counts(mode, subject.colour), appeal=appeal, recorded_at=step.at)
        store_visit_photos(visit, cleaned, saved)
        met = plan.meet(subject, visit) if visit.counts else []
        award_visit(visit, step.user)
        raised = _wish_follow_up(visit, step.user, wish)
        if visit.urgent:
            due = plan.add_necessary(subject, VisitDue.Trigger.URGENT_FINDING, step.at,
                                     step.user)
            notices.necessary_visit(due, home.grid_code)
        _event(subject, Kind.VISITED, step.at, step.user, step.role, visit=visit.pk, kind=kind,
               mode=mode, counts=visit.counts, far=far, urgent=visit.urgent,
               met=met, appeal=appeal.tracking if appeal else None,
               wish=raised.code if raised else None)
        return visit


def _wish_follow_up(visit: Visit, user: Any, wish: dict | None) -> Any:
    """The follow-up micro-wish (layers.wishes.care): the household's, the subject the wisher,
    posted by the visitor; its public title never says the household is a care subject."""
    if not wish:
        return None
    from layers.wishes.care import wish_from_visit

    return wish_from_visit(visit, user, **wish)


def _distance_m(point: Point | None, home: Point | None) -> float | None:
    """Metres on the spheroid (PostGIS geography), as every distance in GeoGrid."""
    if point is None or home is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Distance(ST_GeomFromEWKB(%s)::geography, "
                       "ST_GeomFromEWKB(%s)::geography)", [bytes(point.ewkb), bytes(home.ewkb)])
        return round(float(cursor.fetchone()[0]), 1)


def _follow_up(viewer: CareViewer, home: Home, category: str, text: str):
    """The follow-up appeal, through the same intake as any appeal: located at the building
    (never the room), described by the visitor's text only — no name, no group."""
    if not category:
        return None
    from layers.appeals.intake import AppealInput, allowed_channels, submit_appeal

    if home.location is None:
        raise ValidationError({"appeal_category": _("the subject's home is not known: "
                                                    "report the problem from the map")})
    channel = "patrol" if "patrol" in allowed_channels(viewer.user) else "mobile"
    try:
        result = submit_appeal(AppealInput(
            category=category, channel=channel, lon=home.location.x, lat=home.location.y,
            address=home.address, description=text, client="care"), actor=viewer.user)
    except ValidationError as exc:
        fields = getattr(exc, "message_dict", {"appeal_category": exc.messages})
        raise ValidationError({"appeal_category" if "category" in fields else "appeal_text": [
            m for messages in fields.values() for m in messages]}) from exc
    return result.appeal


# -- proposals ------------------------------------------------------------------------------
def _proposal(ref: int, viewer: CareViewer, name: str):
    return _acting(PROPOSAL_ACTIONS, CareProposal, ref, viewer, name)


PENDING = (CareProposal.Outcome.PENDING,)


def _decide(step: Step, outcome: str, note: str) -> tuple[CareProposal, CareSubject]:
    proposal: CareProposal = step.obj
    if proposal.proposed_by_id == step.user.pk:
        raise PermissionDenied(_("four eyes: the proposer may not decide their own proposal"))
    subject = CareSubject.objects.select_for_update().get(pk=proposal.subject_id)
    subject._home = subject_home(proposal.subject)  # type: ignore[attr-defined]
    proposal.outcome, proposal.decided_by, proposal.decided_at = outcome, step.user, step.at
    proposal.decision_note = note[:500]
    proposal.save(update_fields=["outcome", "decided_by", "decided_at", "decision_note"])
    return proposal, subject


@PROPOSAL_ACTIONS.action("approve", label=gettext_lazy("Approve"), sources=PENDING,
                         who=as_approver, version=False)
def approve(ref: int, viewer: CareViewer, *, note: str = "",
            version: int | None = None) -> CareProposal:
    """Apply the proposal: enrol (the plan starts), change colour/groups (the plan follows the
    new interval) or end care (nothing is owed any more, visitors end)."""
    with _proposal(ref, viewer, "approve") as step:
        proposal, subject = _decide(step, CareProposal.Outcome.APPROVED, note)
        K = CareProposal.Kind
        if proposal.kind == K.EXIT:
            subject.status, subject.exited_at = S.EXITED, step.at
            subject.exit_reason = proposal.reason[:200]
            subject.save(update_fields=["status", "exited_at", "exit_reason"])
            plan.close_all(subject, step.at)
            CareVisitor.objects.filter(subject=subject, until__isnull=True).update(
                until=timezone.localdate())
        else:
            if proposal.kind == K.REASSESS:
                subject.groups.set(CareGroup.objects.filter(code__in=proposal.groups))
            subject.status, subject.colour = S.ACTIVE, proposal.colour
            subject.colour_reason = proposal.reason
            subject.assessed_by_id, subject.assessed_at = proposal.proposed_by_id, step.at
            subject.review_due = timezone.localdate() + dt.timedelta(
                days=plan.care_setting("REVIEW_DAYS"))
            subject.save(update_fields=["status", "colour", "colour_reason", "assessed_by",
                                        "assessed_at", "review_due"])
            plan.schedule_regular(subject, step.at, step.user)
        _event(subject, Kind.APPROVED, step.at, step.user, step.role, proposal=proposal.pk,
               kind=proposal.kind, colour=proposal.colour, groups=proposal.groups)
        notices.proposal_decided(proposal)
        return proposal


@PROPOSAL_ACTIONS.action("reject", label=gettext_lazy("Reject"), sources=PENDING,
                         who=as_approver, version=False, note="required")
def reject(ref: int, viewer: CareViewer, *, note: str,
           version: int | None = None) -> CareProposal:
    """Nothing changes; a rejected enrolment leaves the person free to be proposed again."""
    with _proposal(ref, viewer, "reject") as step:
        proposal, subject = _decide(step, CareProposal.Outcome.REJECTED, note)
        if proposal.kind == CareProposal.Kind.ENROL:
            subject.status = S.REJECTED
            subject.save(update_fields=["status"])
            CareVisitor.objects.filter(subject=subject, until__isnull=True).update(
                until=timezone.localdate())
        _event(subject, Kind.REJECTED, step.at, step.user, step.role, proposal=proposal.pk,
               kind=proposal.kind)
        notices.proposal_decided(proposal)
        return proposal


# -- extra rounds ---------------------------------------------------------------------------
def order_extra_round(viewer: CareViewer, *, grid: str, reason: str, due_at: dt.datetime,
                      colours: list[str] | None = None, note: str = "") -> ExtraRound:
    """One extra visit due for every active subject of the subtree (of the colours named),
    inserted set-based; the reminders then treat them like any due."""
    if not viewer.may(Capability.CARE_SUBTREE, grid):
        raise NotFound(_("no such grid in your care scope"))
    root = Grid.objects.filter(code=grid, valid_to__isnull=True).first()
    if root is None:
        raise NotFound(_("no such grid in your care scope"))
    now = timezone.now()
    with transaction.atomic():
        extra = ExtraRound.objects.create(grid=root, colours=colours or [], reason=reason,
                                          note=note, due_at=due_at, ordered_by=viewer.user,
                                          ordered_at=now)
        subjects = CareSubject.objects.filter(persons_in([grid]), status=S.ACTIVE)
        if colours:
            subjects = subjects.filter(colour__in=colours)
        chosen, params = subjects.values("id").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO care_visitdue (subject_id, kind, trigger, extra_round_id, note, "
                " due_at, created_at, created_by_id) "
                f"SELECT id, 'extra', '', %s, %s, %s, %s, %s FROM ({chosen}) s",
                [extra.pk, note[:200], due_at, now, viewer.user.pk, *params])
            extra.subjects = cursor.rowcount
            cursor.execute(
                "INSERT INTO care_careevent (subject_id, kind, at, actor_id, role, data) "
                "SELECT subject_id, %s, %s, %s, 'care_staff', "
                " jsonb_build_object('round', extra_round_id, 'reason', %s::text) "
                "FROM care_visitdue WHERE extra_round_id = %s",
                [Kind.EXTRA_ROUND, now, viewer.user.pk, reason, extra.pk])
        extra.save(update_fields=["subjects"])
    return extra

