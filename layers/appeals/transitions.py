"""The appeal workflow: its action registry, the transition frame, and one service function
per action.

    received (shown as "submitted") → accepted (受理) → dispatched (派单, the clock starts)
      → in_progress (办理) → resolved (办结) → checked (核查) → closed (after feedback 回访,
      or FEEDBACK_DAYS without it)
    side paths: returned (退单, wrong dispatch → re-dispatched), escalated (吹哨: one grid level
    up, or to a department), extended (延期), suspended (挂账, clock paused), rejected, merged
    (duplicate), redo (返工, failed check → in_progress), reopened (unsatisfied rating, once).

Each action is declared once, on its service function, in APPEAL_ACTIONS (geogrid.actions):
name, label, the states it may start from, who may take it (layers.appeals.actors), its input
fields (layers.appeals.inputs), whether the client must send the version it read. Internal
actions (the deadline watcher's `warn` and `overdue`) go through the same frame but are not
offered over HTTP.

Every action runs through `_transition`, in one database transaction:
1. the appeal row is locked (SELECT … FOR UPDATE), so concurrent writers queue up;
2. who may act is checked by role AND grid scope (PermissionDenied → 403);
3. the version the client saw must still be current (Conflict → 409, nothing changes), and the
   current state must allow the action (Conflict → 409);
4. the action's fields are validated (ValidationError naming the field → 400);
5. the appeal changes, its version goes up, one immutable timeline row is written
   (layers.appeals.timeline) and the people concerned are notified (…notifications).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.errors import Conflict
from geogrid.hierarchy import code_lengths, level_for_code
from geogrid.models import Grid
from geogrid.photos import CleanPhoto, clean_photos
from layers.appeals import deadlines, photos, timeline
from layers.appeals.actors import (
    Actor,
    as_checker,
    as_dispatcher,
    as_handler,
    as_handler_or_dispatcher,
    as_reporter_or_dispatcher,
    as_supporter,
    as_system,
    handler_code,
)
from layers.appeals.inputs import (
    DispatchInput,
    EscalateInput,
    ExtendInput,
    MergeInput,
    RateInput,
    ResolveInput,
)
from layers.appeals.models import (
    CLOCK_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    Department,
    Resolution,
    Satisfaction,
    Status,
    Support,
)
from layers.appeals.notifications import assignee_users, checkers_for, dispatchers_for, notify

S = Status
NOTE_MAX = 2000
SUPPORTABLE = (S.RECEIVED, S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED)

APPEAL_ACTIONS = ActionRegistry("appeal")


# --- the transition frame --------------------------------------------------------------------


@dataclass
class Step:
    """What one transition writes; filled in by the service function, saved by `_transition`."""

    appeal: Appeal
    actor: Actor
    role: str
    action: str
    at: dt.datetime
    from_status: str
    kind: str = ""
    note: str = ""
    data: dict = field(default_factory=dict)
    photos: list[CleanPhoto] = field(default_factory=list)
    bump: bool = True
    notices: list[tuple[list[int], str, dict]] = field(default_factory=list)
    saved_files: list[str] = field(default_factory=list)

    def notify(self, users: list[int], kind: str, **data: Any) -> None:
        self.notices.append((users, kind, data))

    def finish(self) -> AppealEvent:
        appeal = self.appeal
        if self.bump:
            appeal.version += 1
        appeal.save()
        data = {**self.data, "client": self.actor.client} if self.actor.client else self.data
        event = timeline.record(
            appeal, self.kind or self.action, role=self.role, actor=self.actor.user_or_none,
            at=self.at, from_status=self.from_status, note=self.note, data=data)
        photos.store(appeal, self.photos, self.saved_files, event=event)
        for users, kind, data in self.notices:
            notify(users, appeal, kind, **data)
        return event


def lock(ref: Appeal | str) -> Appeal:
    """The appeal, locked for this transaction (only its own row: joined rows may be NULL)."""
    rows = Appeal.objects.select_for_update(of=("self",)).select_related(
        "category", "grid", "assigned_grid", "department"
    )
    found = rows.filter(pk=ref.pk) if isinstance(ref, Appeal) else rows.filter(tracking=str(ref))
    appeal = found.first()
    if appeal is None:
        raise Appeal.DoesNotExist(str(ref))
    return appeal


def _conflict(message: str, appeal: Appeal) -> Conflict:
    return Conflict(message, current={"status": appeal.status, "version": appeal.version})


@contextmanager
def _transition(ref: Appeal | str, actor: Actor, action: str, version: int | None,
                at: dt.datetime | None) -> Iterator[Step]:
    rule = APPEAL_ACTIONS[action]
    step: Step | None = None
    with photos.deleting_on_failure() as saved, transaction.atomic():
        appeal = lock(ref)
        role = rule.who(actor, appeal)
        if not role:
            raise PermissionDenied(
                _("you may not take this action on this appeal: %(action)s")
                % {"action": rule.label})
        if version is not None and version != appeal.version:
            raise _conflict(
                _("the appeal was changed by someone else (version %(now)d, you sent "
                  "%(sent)d); reload it") % {"now": appeal.version, "sent": version}, appeal)
        if appeal.status not in rule.sources:
            raise _conflict(
                _("%(action)s is not possible: the appeal is %(status)s")
                % {"action": rule.label, "status": appeal.get_status_display()}, appeal)
        step = Step(appeal=appeal, actor=actor, role=role, action=action,
                    at=at or timezone.now(), from_status=appeal.status, saved_files=saved)
        yield step
        step.finish()


# --- field checks ----------------------------------------------------------------------------


def _text(value: Any, name: str, *, required: bool, limit: int = NOTE_MAX) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError({name: _("text is required")})
    value = (value or "").strip()
    if "\x00" in value:
        raise ValidationError({name: _("the text contains a NUL character")})
    if required and not value:
        raise ValidationError({name: _("this field is required for this action")})
    if len(value) > limit:
        raise ValidationError({name: _("at most %(n)d characters") % {"n": limit}})
    return value


def _current_grid(code: str, name: str = "grid") -> Grid:
    grid = Grid.objects.current().filter(code=str(code)).first()
    if grid is None:
        raise ValidationError({name: _("no current grid has the code %(code)r") % {"code": code}})
    return grid


def _department(code: str, appeal: Appeal) -> Department:
    dept = Department.objects.filter(code=str(code), active=True).first()
    if dept is None or (dept.district_code and dept.district_code != appeal.district_code):
        raise ValidationError(
            {"department": _("no active department %(code)r serves this district")
             % {"code": code}}
        )
    return dept


def _assignee_label(appeal: Appeal) -> str:
    if appeal.department:
        return appeal.department.name_zh
    if appeal.assigned_grid:
        return f"{appeal.assigned_grid.code} {appeal.assigned_grid.name}"
    return ""


def _assignee_data(appeal: Appeal) -> dict:
    return {
        "grid": appeal.assigned_grid.code if appeal.assigned_grid else None,
        "department": appeal.department.code if appeal.department else None,
        "to": _assignee_label(appeal),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parent_grid(code: str) -> Grid | None:
    level = level_for_code(code)
    if level is None or level <= 1:
        return None
    return Grid.objects.current().filter(code=code[: code_lengths()[level - 1]]).first()


# --- the transitions -------------------------------------------------------------------------


@APPEAL_ACTIONS.action("accept", label=gettext_lazy("Accept"), sources=(S.RECEIVED,),
                        who=as_dispatcher)
def accept(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Appeal:
    """受理: the centre takes the appeal in."""
    with _transition(ref, actor, "accept", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.ACCEPTED
        step.appeal.accepted_at = step.at
    return step.appeal


@APPEAL_ACTIONS.action("reject", label=gettext_lazy("Reject"),
                        sources=(S.RECEIVED, S.ACCEPTED, S.RETURNED), who=as_dispatcher,
                        note="required")
def reject(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Appeal:
    """Invalid (not a matter for the grid, abusive, empty…): closed with the reason."""
    with _transition(ref, actor, "reject", version, at) as step:
        step.note = _text(note, "note", required=True)
        step.appeal.status = S.REJECTED
        step.appeal.closed_at = step.at
    return step.appeal


@APPEAL_ACTIONS.action("merge", label=gettext_lazy("Merge as duplicate"),
                        sources=(S.RECEIVED, S.ACCEPTED, S.RETURNED), who=as_dispatcher,
                        inputs=MergeInput)
def merge(ref: Appeal | str, actor: Actor, *, master: str | None = None,
          version: int | None = None, note: str = "", at: dt.datetime | None = None) -> Appeal:
    """A duplicate closes with a link to its master; the master counts it as a supporter."""
    with _transition(ref, actor, "merge", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        if not master:
            raise ValidationError({"master": _("name the appeal to merge into")})
        if master == appeal.tracking:
            raise ValidationError({"master": _("an appeal cannot be merged into itself")})
        try:
            target = lock(str(master))
        except Appeal.DoesNotExist:
            raise ValidationError({"master": _("no appeal %(t)r") % {"t": master}}) from None
        if target.status not in OPEN_STATUSES:
            raise ValidationError(
                {"master": _("appeal %(t)s is %(status)s; merge into an open appeal")
                 % {"t": master, "status": target.get_status_display()}}
            )
        if not as_dispatcher(actor, target):
            raise PermissionDenied(_("appeal %(t)s is outside your grids") % {"t": master})
        appeal.status = S.MERGED
        appeal.merged_into = target
        appeal.closed_at = step.at
        Appeal.objects.filter(pk=target.pk).update(
            supporters=F("supporters") + 1 + appeal.supporters
        )
        timeline.record(target, AppealEvent.Kind.MERGED_IN, role=step.role,
                        actor=actor.user_or_none, at=step.at,
                        data={"duplicate": appeal.tracking})
        step.data = {"master": target.tracking}
    return step.appeal


@APPEAL_ACTIONS.action("dispatch", label=gettext_lazy("Dispatch"),
                        sources=(S.ACCEPTED, S.RETURNED), who=as_dispatcher, inputs=DispatchInput)
def dispatch(ref: Appeal | str, actor: Actor, *, grid: str | None = None,
             department: str | None = None, version: int | None = None, note: str = "",
             at: dt.datetime | None = None) -> Appeal:
    """派单 to a grid's staff (by default the micro-grid it lies in) or to a department.
    The clock starts here; a re-dispatch after a return starts it afresh."""
    with _transition(ref, actor, "dispatch", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        target_grid, dept = None, None
        if grid and department:
            raise ValidationError({"department": _("give a grid or a department, not both")})
        if department:
            dept = _department(department, appeal)
        else:
            if not grid:
                if not appeal.grid:
                    raise ValidationError(
                        {"grid": _("the appeal is unlocated: name a grid or a department")}
                    )
                grid = appeal.grid.code
            target_grid = _current_grid(grid)
            if not target_grid.code.startswith(appeal.district_code):
                raise ValidationError({"grid": _("the grid is not in the appeal's district")})
            if not (actor.is_super or actor.system or actor.covers(target_grid.code)):
                raise PermissionDenied(_("grid %(code)s is outside your grids")
                                       % {"code": target_grid.code})
        appeal.assigned_grid, appeal.department = target_grid, dept
        appeal.status = S.DISPATCHED
        appeal.dispatched_at = step.at
        deadlines.start_clock(appeal, step.at)
        step.data = {**_assignee_data(appeal), "due_at": _iso(appeal.due_at)}
        step.notify(assignee_users(appeal), "assigned", to=_assignee_label(appeal),
                    due=_iso(appeal.due_at))
    return step.appeal


@APPEAL_ACTIONS.action("return", label=gettext_lazy("Return (wrong dispatch)"),
                        sources=(S.DISPATCHED, S.IN_PROGRESS), who=as_handler, note="required")
def return_(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
            at: dt.datetime | None = None) -> Appeal:
    """退单: the assignee says it was dispatched to the wrong place; back to the dispatchers."""
    with _transition(ref, actor, "return", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=True)
        step.data = _assignee_data(appeal)
        appeal.status = S.RETURNED
        appeal.assigned_grid = appeal.department = None
        appeal.clock_started_at = None
        deadlines.recompute(appeal, step.at)
        step.notify(dispatchers_for(appeal), "returned", note=step.note)
    return step.appeal


@APPEAL_ACTIONS.action("start", label=gettext_lazy("Start handling"), sources=(S.DISPATCHED,),
                        who=as_handler)
def start(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
          at: dt.datetime | None = None) -> Appeal:
    """办理: the assignee starts work."""
    with _transition(ref, actor, "start", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.IN_PROGRESS
    return step.appeal


def _escalation_target(appeal: Appeal, department: str | None) -> tuple[Grid | None,
                                                                          Department | None]:
    if department:
        return None, _department(department, appeal)
    if appeal.department_id:
        raise ValidationError({"department": _(
            "the appeal is with a department; name another department to escalate to")})
    code = handler_code(appeal)
    parent = _parent_grid(code) if code else None
    if parent is None:
        raise ValidationError({"department": _(
            "the appeal is already at the top level; name a department to escalate to")})
    return parent, None


@APPEAL_ACTIONS.action("escalate", label=gettext_lazy("Escalate"),
                        sources=(S.DISPATCHED, S.IN_PROGRESS), who=as_handler_or_dispatcher,
                        inputs=EscalateInput)
def escalate(ref: Appeal | str, actor: Actor, *, department: str | None = None,
             version: int | None = None, note: str = "", at: dt.datetime | None = None) -> Appeal:
    """吹哨: to the parent grid level (micro-grid → zone → community → subdistrict → district)
    or to a department. The new assignee must start it; the clock runs on."""
    with _transition(ref, actor, "escalate", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        before = _assignee_data(appeal)
        appeal.assigned_grid, appeal.department = _escalation_target(appeal, department)
        appeal.escalation_level += 1
        appeal.status = S.DISPATCHED
        step.data = {"from": before, **_assignee_data(appeal), "level": appeal.escalation_level}
        step.notify(assignee_users(appeal), "assigned", to=_assignee_label(appeal),
                    due=_iso(appeal.due_at))
    return step.appeal


@APPEAL_ACTIONS.action("extend", label=gettext_lazy("Extend deadline"),
                        sources=(S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED), who=as_dispatcher,
                        inputs=ExtendInput)
def extend(ref: Appeal | str, actor: Actor, *, hours: Any = None, version: int | None = None,
           note: str = "", at: dt.datetime | None = None) -> Appeal:
    """延期 approved by a dispatcher: adds working hours to the deadline."""
    with _transition(ref, actor, "extend", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        limit = float(settings.GEOGRID.get("EXTENSION_MAX_HOURS", 240))
        try:
            value = float(hours)
        except (TypeError, ValueError):
            raise ValidationError({"hours": _("a number of working hours is required")}) from None
        if not 0 < value <= limit:
            raise ValidationError({"hours": _("between 0 and %(n)d working hours")
                                   % {"n": limit}})
        deadlines.extend(appeal, round(value * 60), step.at)
        step.data = {"hours": value, "due_at": _iso(appeal.due_at)}
        step.notify(assignee_users(appeal), "extended", due=_iso(appeal.due_at))
    return step.appeal


@APPEAL_ACTIONS.action("suspend", label=gettext_lazy("Suspend"),
                        sources=(S.DISPATCHED, S.IN_PROGRESS), who=as_dispatcher, note="required")
def suspend(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
            at: dt.datetime | None = None) -> Appeal:
    """挂账: seasonal or engineering work; the clock pauses until it resumes."""
    with _transition(ref, actor, "suspend", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=True)
        appeal.suspended_from = appeal.status
        appeal.status = S.SUSPENDED
        deadlines.pause(appeal, step.at)
    return step.appeal


@APPEAL_ACTIONS.action("resume", label=gettext_lazy("Resume"), sources=(S.SUSPENDED,),
                        who=as_dispatcher)
def resume(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Appeal:
    with _transition(ref, actor, "resume", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        paused = deadlines.resume(appeal, step.at)
        appeal.status = appeal.suspended_from or S.IN_PROGRESS
        appeal.suspended_from = ""
        step.data = {"paused_minutes": round(paused, 1), "due_at": _iso(appeal.due_at)}
    return step.appeal


@APPEAL_ACTIONS.action("resolve", label=gettext_lazy("Resolve"), sources=(S.IN_PROGRESS,),
                        who=as_handler, inputs=ResolveInput)
def resolve(ref: Appeal | str, actor: Actor, *, result: str | None = None,
            photos: list | tuple = (), version: int | None = None, note: str = "",
            at: dt.datetime | None = None) -> Appeal:
    """办结: the result, and an after-photo for categories of the configured kinds."""
    with _transition(ref, actor, "resolve", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        appeal.result = _text(result, "result", required=True)
        step.photos = clean_photos(list(photos))
        kinds = settings.GEOGRID.get("RESOLVE_PHOTO_KINDS", ())
        if not step.photos and appeal.category.kind in kinds:
            raise ValidationError({"photos": _("an after-photo is required for this category")})
        deadlines.stop_clock(appeal, step.at)
        appeal.status = S.RESOLVED
        step.data = {"on_time": not deadlines.is_overdue(appeal, step.at),
                     "handling_minutes": appeal.handling_minutes}
        step.notify(checkers_for(appeal), "resolved")
    return step.appeal


@APPEAL_ACTIONS.action("check_pass", label=gettext_lazy("Check: passed"),
                        sources=(S.RESOLVED,), who=as_checker)
def check_pass(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
               at: dt.datetime | None = None) -> Appeal:
    """核查 passed (grid leader or dispatcher): waits for the reporter's feedback."""
    with _transition(ref, actor, "check_pass", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.CHECKED
        step.appeal.checked_at = step.at
    return step.appeal


@APPEAL_ACTIONS.action("check_fail", label=gettext_lazy("Check: redo"),
                        sources=(S.RESOLVED,), who=as_checker, note="required")
def check_fail(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
               at: dt.datetime | None = None) -> Appeal:
    """返工: back to the assignee; the original deadline still applies."""
    with _transition(ref, actor, "check_fail", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=True)
        appeal.status = S.IN_PROGRESS
        appeal.redo_count += 1
        appeal.resolved_at = appeal.handling_minutes = None
        step.notify(assignee_users(appeal), "redo", note=step.note)
    return step.appeal


@APPEAL_ACTIONS.action("close", label=gettext_lazy("Close"), sources=(S.CHECKED,),
                        who=as_dispatcher)
def close(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
          at: dt.datetime | None = None) -> Appeal:
    """Closed by a dispatcher without a rating (e.g. the reporter could not be reached)."""
    with _transition(ref, actor, "close", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.CLOSED
        step.appeal.closed_at = step.at
    return step.appeal


@APPEAL_ACTIONS.action("rate", label=gettext_lazy("Rate"), sources=(S.CHECKED,),
                        who=as_reporter_or_dispatcher, inputs=RateInput, version=False,
                        note="none")
def rate(ref: Appeal | str, actor: Actor, *, resolution: str | None = None,
         satisfaction: str | None = None, comment: str = "", version: int | None = None,
         at: dt.datetime | None = None) -> Appeal:
    """回访: the reporter (or a dispatcher recording a phone call-back) rates the result.
    'unsatisfied' reopens the appeal once, with a fresh time limit; otherwise it closes."""
    with _transition(ref, actor, "rate", version, at) as step:
        appeal = step.appeal
        if resolution not in Resolution.values:
            raise ValidationError({"resolution": _("one of %(v)s") % {
                "v": ", ".join(Resolution.values)}})
        if satisfaction not in Satisfaction.values:
            raise ValidationError({"satisfaction": _("one of %(v)s") % {
                "v": ", ".join(Satisfaction.values)}})
        comment = _text(comment, "comment", required=False)
        appeal.resolution, appeal.satisfaction = resolution, satisfaction
        appeal.feedback_comment, appeal.rated_at = comment, step.at
        step.note = comment
        step.data = {"resolution": resolution, "satisfaction": satisfaction}
        if satisfaction == Satisfaction.UNSATISFIED and appeal.reopen_count == 0:
            step.kind = AppealEvent.Kind.REOPEN
            appeal.reopen_count = 1
            appeal.status = S.IN_PROGRESS
            appeal.checked_at = None
            deadlines.start_clock(appeal, step.at)
            step.data["due_at"] = _iso(appeal.due_at)
            step.notify(assignee_users(appeal) + checkers_for(appeal), "reopened")
        else:
            appeal.status = S.CLOSED
            appeal.closed_at = step.at
    return step.appeal


@APPEAL_ACTIONS.action("support", label=gettext_lazy("Support"), sources=SUPPORTABLE,
                        who=as_supporter, version=False, note="none")
def support(ref: Appeal | str, actor: Actor, *, version: int | None = None,
            at: dt.datetime | None = None) -> Appeal:
    """A resident backs an existing appeal; supporters raise its priority. Once per person."""
    with _transition(ref, actor, "support", version, at) as step:
        appeal = step.appeal
        step.bump = False  # not a change of state: concurrent staff actions must not conflict
        try:
            with transaction.atomic():
                Support.objects.create(appeal=appeal, user=actor.user_or_none,
                                       client_key="" if actor.active else actor.client_key)
        except IntegrityError:
            raise _conflict(_("you already support this appeal"), appeal) from None
        appeal.supporters += 1
        step.data = {"supporters": appeal.supporters}
    return step.appeal


# --- the deadline watcher's actions (internal: taken by the system, not offered over HTTP) ----


class NothingToDo(Exception):
    """The condition the watcher saw is gone once the row is locked (another run did it, or
    the deadline moved): the transaction rolls back and nothing is written."""


@APPEAL_ACTIONS.action("warn", label=gettext_lazy("Deadline warning"), sources=CLOCK_STATUSES,
                        who=as_system, version=False, note="none", internal=True)
def warn(ref: Appeal | str, actor: Actor, *, at: dt.datetime | None = None) -> Appeal:
    """The assignee is told that WARNING_RATIO of the time is used (once per deadline)."""
    with _transition(ref, actor, "warn", None, at) as step:
        appeal = step.appeal
        if (appeal.warned_at is not None or appeal.warn_at is None or appeal.warn_at > step.at
                or appeal.due_at is None or appeal.due_at <= step.at):
            raise NothingToDo
        step.bump = False  # not a change of state: concurrent staff actions must not conflict
        appeal.warned_at = step.at
        percent = round(deadlines.warning_ratio() * 100)
        step.data = {"due_at": _iso(appeal.due_at), "percent": percent}
        step.notify(assignee_users(appeal), "warning", due=_iso(appeal.due_at), percent=percent)
    return step.appeal


@APPEAL_ACTIONS.action("overdue", label=gettext_lazy("Escalate as overdue"),
                        sources=CLOCK_STATUSES, who=as_system, version=False, note="none",
                        internal=True)
def escalate_as_overdue(ref: Appeal | str, actor: Actor, *,
                        at: dt.datetime | None = None) -> Appeal:
    """Past its deadline: one grid level up (once per deadline); at the top, recorded only."""
    with _transition(ref, actor, "overdue", None, at) as step:
        appeal = step.appeal
        if appeal.overdue_escalated_at is not None or appeal.due_at is None \
                or appeal.due_at > step.at:
            raise NothingToDo
        before = _assignee_data(appeal)
        code = handler_code(appeal)
        parent = _parent_grid(code) if code else None
        appeal.overdue_escalated_at = step.at
        appeal.warned_at = appeal.warned_at or step.at
        step.bump = parent is not None
        if parent is not None:
            appeal.assigned_grid, appeal.department = parent, None
            appeal.escalation_level += 1
            appeal.status = S.DISPATCHED
        step.data = {"from": before, **_assignee_data(appeal), "due_at": _iso(appeal.due_at),
                     "escalated": parent is not None, "level": appeal.escalation_level}
        users = set(dispatchers_for(appeal)) | set(assignee_users(appeal) if parent else ())
        step.notify(sorted(users), "overdue", due=_iso(appeal.due_at),
                    to=_assignee_label(appeal))
    return step.appeal
