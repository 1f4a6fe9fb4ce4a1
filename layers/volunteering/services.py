"""The volunteering actions: one service function per action, each declared once in a registry.

    register_volunteer       staff register a user as a volunteer of their community
    apply                    a resident asks to serve a community
    APPLICATION_ACTIONS      approve, reject (staff, never the applicant), withdraw (applicant)
    submit_record            a volunteer records their own service, or staff record it for them
    RECORD_ACTIONS           verify (earns by `service_hour`, once), reject (a verified record:
                             its points are reversed — POINTS_REVERSE)
    ENTRY_ACTIONS            reverse one ledger entry with a reason (POINTS_REVERSE)
    propose_adjustment       points outside the rules, with a reason (POINTS_REVERSE) …
    ADJUSTMENT_ACTIONS       … approved or rejected by another POINTS_REVERSE holder

Every action runs in one transaction through `_acting`: the row is locked, the viewer's right
is checked (out of sight → 404, seen but not allowed → 403), then the state (409), then the
body. A constraint the database enforces answers 409 (geogrid.errors.integrity_conflict).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.errors import Conflict, NotFound, integrity_conflict
from geogrid.hierarchy import Level
from geogrid.models import Grid
from layers.volunteering import ledger
from layers.volunteering.access import REVERSE, VERIFY, PointsViewer
from layers.volunteering.earning import award
from layers.volunteering.inputs import ReasonInput
from layers.volunteering.ledger import Source
from layers.volunteering.models import (
    EntryKind,
    PartnerUnit,
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    ServiceRecord,
    Volunteer,
    VolunteerApplication,
)

APPLICATION_ACTIONS = ActionRegistry("volunteer_application")
RECORD_ACTIONS = ActionRegistry("service_record")
ENTRY_ACTIONS = ActionRegistry("points_entry")
ADJUSTMENT_ACTIONS = ActionRegistry("points_adjustment")
SERVICE_RULE = "service_hour"
# Entries with a flow of their own: reversed by rejecting the record or cancelling the redemption.
OWN_FLOW_SOURCES = ("service_record", "redemption")


# -- the frame ------------------------------------------------------------------------------
@dataclass
class Step:
    obj: Any
    viewer: PointsViewer
    at: dt.datetime
    role: str

    @property
    def user(self) -> Any:
        return self.viewer.user


def state_of(obj: Any) -> str:
    return obj.kind if isinstance(obj, PointsEntry) else obj.status


@contextmanager
def _acting(registry: ActionRegistry, query: Any, pk: int, viewer: PointsViewer, name: str,
            visible: Callable[[PointsViewer, Any], bool]) -> Iterator[Step]:
    action = registry[name]
    try:
        with transaction.atomic():
            obj = query.select_for_update(of=("self",)).filter(pk=pk).first()
            if obj is None or not visible(viewer, obj):
                raise NotFound(_("not found"))
            role = action.who(viewer, obj)
            if not role:
                raise PermissionDenied(_("you may not %(action)s here") % {"action": name})
            if state_of(obj) not in action.sources:
                raise Conflict(_("not possible in state %(s)s") % {"s": state_of(obj)},
                               current={"state": state_of(obj)})
            yield Step(obj, viewer, timezone.now(), role)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _community(code: str, viewer: PointsViewer | None = None) -> Grid:
    """A current community grid by code (in the viewer's POINTS_VERIFY scope when given)."""
    grid = Grid.objects.current().filter(code=code, level=Level.COMMUNITY).first()
    if grid is None or (viewer is not None and not viewer.may(VERIFY, code)):
        raise ValidationError({"community": _("no such community in your scope")})
    return grid


# -- volunteers -----------------------------------------------------------------------------
@transaction.atomic
def register_volunteer(viewer: PointsViewer, *, username: str, display_name: str,
                       community: str, kind: str = Volunteer.Kind.VOLUNTEER,
                       partner_unit: int | None = None) -> Volunteer:
    """Staff (POINTS_VERIFY on the community) register an existing user; the account opens."""
    grid = _community(community, viewer)
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"username": _("no such active user")})
    unit = None
    if partner_unit is not None:
        unit = PartnerUnit.objects.filter(pk=partner_unit, active=True,
                                          community__code=grid.code).first()
        if unit is None:
            raise ValidationError({"partner_unit": _("no such partner unit of the community")})
    if Volunteer.objects.filter(user=user).exists():
        raise Conflict(_("this user is a volunteer already"))
    try:
        with transaction.atomic():
            volunteer = Volunteer.objects.create(user=user, display_name=display_name,
                                                 community=grid, kind=kind, partner_unit=unit)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    ledger.account_for(volunteer)
    return volunteer


def apply(viewer: PointsViewer, *, community: str, display_name: str,
          kind: str = Volunteer.Kind.VOLUNTEER, note: str = "") -> VolunteerApplication:
    """A signed-in user asks to serve a community; one pending application at a time."""
    grid = _community(community)
    if viewer.volunteer is not None:
        raise Conflict(_("you are a volunteer already"))
    try:
        with transaction.atomic():
            return VolunteerApplication.objects.create(
                user=viewer.user, community=grid, kind=kind, display_name=display_name,
                note=note)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def application_visible(viewer: PointsViewer, a: VolunteerApplication) -> bool:
    return a.user_id == viewer.user.pk or viewer.may(VERIFY, a.community.code)


def as_application_staff(viewer: PointsViewer, a: VolunteerApplication) -> str | None:
    if a.user_id != viewer.user.pk and viewer.may(VERIFY, a.community.code):
        return "staff"
    return None


def as_applicant(viewer: PointsViewer, a: VolunteerApplication) -> str | None:
    return "applicant" if a.user_id == viewer.user.pk else None


def _application(pk: int, viewer: PointsViewer, name: str):
    return _acting(APPLICATION_ACTIONS,
                   VolunteerApplication.objects.select_related("community"), pk, viewer, name,
                   application_visible)


A = VolunteerApplication.Status


@APPLICATION_ACTIONS.action("approve", label=gettext_lazy("Approve"), sources=(A.PENDING,),
                            who=as_application_staff, version=False, note="none")
def approve_application(ref: int, viewer: PointsViewer,
                        version: int | None = None) -> VolunteerApplication:
    """The applicant becomes a volunteer of the community (their account opens)."""
    with _application(ref, viewer, "approve") as step:
        a: VolunteerApplication = step.obj
        if Volunteer.objects.filter(user_id=a.user_id).exists():
            raise Conflict(_("this user is a volunteer already"))
        volunteer = Volunteer.objects.create(user_id=a.user_id, display_name=a.display_name,
                                             community=a.community, kind=a.kind)
        ledger.account_for(volunteer)
        a.status, a.volunteer = A.APPROVED, volunteer
        a.decided_by, a.decided_at = step.user, step.at
        a.save(update_fields=["status", "volunteer", "decided_by", "decided_at"])
        return a


@APPLICATION_ACTIONS.action("reject", label=gettext_lazy("Reject"), sources=(A.PENDING,),
                            who=as_application_staff, inputs=ReasonInput, version=False,
                            note="none")
def reject_application(ref: int, viewer: PointsViewer, *, reason: str,
                       version: int | None = None) -> VolunteerApplication:
    with _application(ref, viewer, "reject") as step:
        a: VolunteerApplication = step.obj
        a.status, a.decision_note = A.REJECTED, reason
        a.decided_by, a.decided_at = step.user, step.at
        a.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
        return a


@APPLICATION_ACTIONS.action("withdraw", label=gettext_lazy("Withdraw"), sources=(A.PENDING,),
                            who=as_applicant, version=False, note="none")
def withdraw_application(ref: int, viewer: PointsViewer,
                         version: int | None = None) -> VolunteerApplication:
    with _application(ref, viewer, "withdraw") as step:
        a: VolunteerApplication = step.obj
        a.status, a.decided_at = A.WITHDRAWN, step.at
        a.save(update_fields=["status", "decided_at"])
        return a


# -- service records ------------------------------------------------------------------------
R = ServiceRecord.Status


def submit_record(viewer: PointsViewer, *, activity: str, grid: str, served_on: dt.date,
                  hours: Decimal, volunteer: int | None = None) -> ServiceRecord:
    """A volunteer records their own service in their community; staff (POINTS_VERIFY on the
    grid) record it for any active volunteer. Verified later, by staff other than the
    volunteer."""
    place = Grid.objects.current().filter(code=grid, level__gte=Level.COMMUNITY).first()
    if volunteer is None or (viewer.volunteer and viewer.volunteer.pk == volunteer):
        own = viewer.volunteer
        if own is None or not own.active:
            raise PermissionDenied(_("you are not an active volunteer"))
        if place is None or not grid.startswith(own.community.code):
            raise ValidationError({"grid": _("no such grid in your community")})
        serving = own
    else:
        if place is None or not viewer.may(VERIFY, grid):
            raise ValidationError({"grid": _("no such grid in your scope")})
        found = Volunteer.objects.filter(pk=volunteer, active=True).first()
        if found is None:
            raise ValidationError({"volunteer": _("no such active volunteer")})
        serving = found
    return ServiceRecord.objects.create(volunteer=serving, activity=activity, grid=place,
                                        served_on=served_on, hours=hours,
                                        submitted_by=viewer.user)


def record_visible(viewer: PointsViewer, r: ServiceRecord) -> bool:
    return viewer.owns(r.volunteer_id) or viewer.is_staff_for(r.grid.code)


def as_verifier(viewer: PointsViewer, r: ServiceRecord) -> str | None:
    if r.volunteer.user_id == viewer.user.pk:
        return None  # never one's own service
    return "staff" if viewer.may(VERIFY, r.grid.code) else None


def as_rejecter(viewer: PointsViewer, r: ServiceRecord) -> str | None:
    """A submitted record: POINTS_VERIFY; a verified one (its points are taken back):
    POINTS_REVERSE."""
    if r.volunteer.user_id == viewer.user.pk:
        return None
    capability = REVERSE if r.status == R.VERIFIED else VERIFY
    return "staff" if viewer.may(capability, r.grid.code) else None


def _record(pk: int, viewer: PointsViewer, name: str):
    return _acting(RECORD_ACTIONS,
                   ServiceRecord.objects.select_related("grid", "volunteer"), pk, viewer, name,
                   record_visible)


def record_key(record_id: int) -> str:
    return f"service_record:{record_id}"


@RECORD_ACTIONS.action("verify", label=gettext_lazy("Verify"), sources=(R.SUBMITTED,),
                       who=as_verifier, version=False, note="none")
def verify_record(ref: int, viewer: PointsViewer, version: int | None = None) -> ServiceRecord:
    """Verified: the volunteer earns by the `service_hour` rule (1 point an hour, at most 2
    hours counted, the daily cap) once — the record's id is the idempotency key. Caps reached
    or the rule switched off: verified without points (`entry` null)."""
    with _record(ref, viewer, "verify") as step:
        r: ServiceRecord = step.obj
        posted = award(r.volunteer, SERVICE_RULE, source=Source("service_record", r.pk),
                       key=record_key(r.pk), by=step.user, units=r.hours, grid_id=r.grid_id,
                       note=r.activity[:200])
        r.status, r.verified_by, r.verified_at = R.VERIFIED, step.user, step.at
        r.entry = posted.entry if posted else None
        r.version += 1
        r.save(update_fields=["status", "verified_by", "verified_at", "entry", "version"])
        return r


@RECORD_ACTIONS.action("reject", label=gettext_lazy("Reject"), sources=(R.SUBMITTED, R.VERIFIED),
                       who=as_rejecter, inputs=ReasonInput, version=False, note="none")
def reject_record(ref: int, viewer: PointsViewer, *, reason: str,
                  version: int | None = None) -> ServiceRecord:
    """Not true, not complete or paid for: rejected. A verified record's points are reversed
    in the same transaction (409 when the volunteer has spent them: nothing changes)."""
    with _record(ref, viewer, "reject") as step:
        r: ServiceRecord = step.obj
        if r.entry is not None:
            r.reversal = ledger.reverse(r.entry, key=f"{record_key(r.pk)}:reversal",
                                        by=step.user, note=reason).entry
        r.status, r.rejected_by, r.rejected_at = R.REJECTED, step.user, step.at
        r.reject_reason = reason
        r.version += 1
        r.save(update_fields=["status", "rejected_by", "rejected_at", "reject_reason",
                              "reversal", "version"])
        return r


# -- ledger corrections ---------------------------------------------------------------------
def entry_visible(viewer: PointsViewer, e: PointsEntry) -> bool:
    return viewer.may(REVERSE, e.account.volunteer.community.code)


def as_reverser(viewer: PointsViewer, e: PointsEntry) -> str | None:
    return "staff" if viewer.may(REVERSE, e.account.volunteer.community.code) else None


@ENTRY_ACTIONS.action("reverse", label=gettext_lazy("Reverse"),
                      sources=(EntryKind.EARN, EntryKind.EXPIRE, EntryKind.ADJUST),
                      who=as_reverser, inputs=ReasonInput, version=False, note="none")
def reverse_entry(ref: int, viewer: PointsViewer, *, reason: str,
                  version: int | None = None) -> PointsEntry:
    """The reversal of one entry, with the reason (at most one; 409 on a second, or when the
    points are spent). A service record's or a redemption's entry is reversed by rejecting the
    record or cancelling the redemption, which keep their own state in step."""
    with _acting(ENTRY_ACTIONS,
                 PointsEntry.objects.select_related("account__volunteer__community"), ref,
                 viewer, "reverse", entry_visible) as step:
        entry: PointsEntry = step.obj
        if entry.source_type in OWN_FLOW_SOURCES:
            raise Conflict(_("reverse this through its %(s)s") % {"s": entry.source_type},
                           current={"source_type": entry.source_type})
        if PointsEntry.objects.filter(reverses=entry).exists():
            raise Conflict(_("This entry has already been reversed."),
                           current={"entry": entry.pk})
        return ledger.reverse(entry, key=f"entry:{entry.pk}:reversal", by=step.user,
                              note=reason).entry


def propose_adjustment(viewer: PointsViewer, account: int, *, amount: int,
                       reason: str) -> PointsAdjustment:
    """Points outside the rules; nothing moves until another POINTS_REVERSE holder approves."""
    found = PointsAccount.objects.select_related("volunteer__community").filter(
        pk=account).first()
    if found is None or not viewer.may(REVERSE, found.volunteer.community.code):
        raise NotFound(_("no such account in your scope"))
    try:
        with transaction.atomic():
            return PointsAdjustment.objects.create(account=found, amount=amount, reason=reason,
                                                   proposed_by=viewer.user)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def adjustment_visible(viewer: PointsViewer, a: PointsAdjustment) -> bool:
    return viewer.may(REVERSE, a.account.volunteer.community.code)


def as_second_person(viewer: PointsViewer, a: PointsAdjustment) -> str | None:
    if a.proposed_by_id == viewer.user.pk:
        return None  # four eyes
    return "staff" if viewer.may(REVERSE, a.account.volunteer.community.code) else None


def _adjustment(pk: int, viewer: PointsViewer, name: str):
    return _acting(ADJUSTMENT_ACTIONS,
                   PointsAdjustment.objects.select_related("account__volunteer__community"),
                   pk, viewer, name, adjustment_visible)


J = PointsAdjustment.Status


@ADJUSTMENT_ACTIONS.action("approve", label=gettext_lazy("Approve"), sources=(J.PENDING,),
                          who=as_second_person, version=False, note="none")
def approve_adjustment(ref: int, viewer: PointsViewer,
                       version: int | None = None) -> PointsAdjustment:
    """The adjustment is posted (409 when it would take the balance below zero)."""
    with _adjustment(ref, viewer, "approve") as step:
        a: PointsAdjustment = step.obj
        a.entry = ledger.post(a.account_id, a.amount, EntryKind.ADJUST, key=f"adjustment:{a.pk}",
                              by=step.user, source=Source("adjustment", a.pk),
                              grid_id=a.account.volunteer.community_id,
                              note=a.reason).entry
        a.status, a.decided_by, a.decided_at = J.APPROVED, step.user, step.at
        a.save(update_fields=["status", "entry", "decided_by", "decided_at"])
        return a


@ADJUSTMENT_ACTIONS.action("reject", label=gettext_lazy("Reject"), sources=(J.PENDING,),
                          who=as_second_person, version=False, note="none")
def reject_adjustment(ref: int, viewer: PointsViewer,
                      version: int | None = None) -> PointsAdjustment:
    with _adjustment(ref, viewer, "reject") as step:
        a: PointsAdjustment = step.obj
        a.status, a.decided_by, a.decided_at = J.REJECTED, step.user, step.at
        a.save(update_fields=["status", "decided_by", "decided_at"])
        return a
