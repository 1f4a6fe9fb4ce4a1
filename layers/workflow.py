"""The appeal workflow: a state machine with one service function per transition.

    received (shown as "submitted") → accepted (受理) → dispatched (派单, the clock starts)
      → in_progress (办理) → resolved (办结) → checked (核查) → closed (after feedback 回访,
      or FEEDBACK_DAYS without it)
    side paths: returned (退单, wrong dispatch → re-dispatched), escalated (吹哨: one grid level
    up, or to a department), extended (延期), suspended (挂账, clock paused), rejected, merged
    (duplicate), redo (返工, failed check → in_progress), reopened (unsatisfied rating, once).

Every transition runs through `_transition`, in one database transaction:
1. the appeal row is locked (SELECT … FOR UPDATE), so concurrent writers queue up;
2. who may act is checked by role AND grid scope (PermissionDenied → 403);
3. the version the client saw must still be current (Conflict → 409, nothing changes), and the
   current state must allow the action (Conflict → 409);
4. the action's fields are validated (ValidationError naming the field → 400);
5. the appeal changes, its version goes up, one immutable timeline row is written and the
   people concerned are notified (layers.notifications).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.hierarchy import code_lengths, level_for_code
from geogrid.models import Grid, StaffAssignment
from layers import deadlines
from layers.models import (
    CLOCK_STATUSES,
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AppealPhoto,
    Department,
    Resolution,
    Satisfaction,
    Status,
    Support,
)
from layers.notifications import assignee_users, checkers_for, dispatchers_for, notify
from layers.photos import CleanPhoto, PhotoError, clean_photo

S = Status
NOTE_MAX = 2000
HANDLER_POSTS = ("grid_leader", "grid_worker", "zone_leader", "manager")
LEADER_POSTS = ("grid_leader", "zone_leader", "manager")
SUPPORTABLE = (S.RECEIVED, S.ACCEPTED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED)

ACTION_LABELS = {
    "accept": gettext_lazy("accept"), "reject": gettext_lazy("reject"),
    "merge": gettext_lazy("merge"), "dispatch": gettext_lazy("dispatch"),
    "return": gettext_lazy("return"), "start": gettext_lazy("start handling"),
    "escalate": gettext_lazy("escalate"), "extend": gettext_lazy("extend the deadline"),
    "suspend": gettext_lazy("suspend"), "resume": gettext_lazy("resume"),
    "resolve": gettext_lazy("resolve"), "check_pass": gettext_lazy("pass the check"),
    "check_fail": gettext_lazy("fail the check"), "close": gettext_lazy("close"),
    "rate": gettext_lazy("rate"), "support": gettext_lazy("support"),
}


class Conflict(Exception):
    """The appeal changed since the client read it, or its state does not allow the action."""

    def __init__(self, message: str, appeal: Appeal | None = None) -> None:
        super().__init__(message)
        self.status = appeal.status if appeal is not None else None
        self.version = appeal.version if appeal is not None else None


# --- who is acting ---------------------------------------------------------------------------


@dataclass(eq=False)
class Actor:
    """The person behind a request: a user, a token holder (the reporter without an account),
    an anonymous client (support), or the system (cron commands). Scope is read once."""

    user: Any = None
    token_ok: bool = False
    client_key: str = ""
    system: bool = False

    @property
    def active(self) -> bool:
        return bool(self.user is not None and self.user.is_authenticated and self.user.is_active)

    @cached_property
    def is_super(self) -> bool:
        return self.active and self.user.is_superuser

    @cached_property
    def roles(self) -> frozenset[str]:
        if not self.active:
            return frozenset()
        return frozenset(self.user.groups.values_list("name", flat=True))

    @cached_property
    def posts(self) -> tuple[tuple[str, str], ...]:
        """(grid code, post) of the user's current posts on current grids."""
        if not self.active:
            return ()
        today = timezone.localdate()
        return tuple(StaffAssignment.objects.filter(
            Q(until__isnull=True) | Q(until__gte=today), user=self.user, since__lte=today,
            grid__valid_to__isnull=True,
        ).values_list("grid__code", "post"))

    @cached_property
    def department_ids(self) -> frozenset[int]:
        if not self.active:
            return frozenset()
        return frozenset(self.user.departments.filter(active=True).values_list("id", flat=True))

    def covers(self, code: str | None, posts: tuple[str, ...] | None = None) -> bool:
        """True when one of the user's posts (of the given kinds) is on `code` or an ancestor."""
        if not code:
            return False
        return any(code.startswith(c) for c, p in self.posts if posts is None or p in posts)

    @property
    def user_or_none(self):
        return self.user if self.active else None


SYSTEM = Actor(system=True)


def location_code(appeal: Appeal) -> str:
    """The grid the appeal lies in, or its district when unlocated (the district's queue)."""
    return appeal.grid.code if appeal.grid_id else appeal.district_code


def handler_code(appeal: Appeal) -> str | None:
    """The grid whose staff handle it: the assignee, or before dispatch where it lies."""
    if appeal.department_id:
        return None
    if appeal.assigned_grid_id:
        return appeal.assigned_grid.code
    return appeal.grid.code if appeal.grid_id else None


def as_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    if actor.system:
        return "system"
    if actor.is_super:
        return "admin"
    if "dispatcher" in actor.roles and actor.covers(location_code(appeal)):
        return "dispatcher"
    return None


def as_handler(actor: Actor, appeal: Appeal) -> str | None:
    if actor.system:
        return "system"
    if actor.is_super:
        return "admin"
    if appeal.department_id:
        return "department" if appeal.department_id in actor.department_ids else None
    if actor.roles & {"grid_worker", "grid_manager"} and actor.covers(
        handler_code(appeal), HANDLER_POSTS
    ):
        return "grid_staff"
    return None


def as_checker(actor: Actor, appeal: Appeal) -> str | None:
    role = as_dispatcher(actor, appeal)
    if role:
        return role
    code = handler_code(appeal) or (appeal.grid.code if appeal.grid_id else None)
    if actor.roles & {"grid_worker", "grid_manager"} and actor.covers(code, LEADER_POSTS):
        return "grid_leader"
    return None


def as_reporter(actor: Actor, appeal: Appeal) -> str | None:
    if actor.token_ok or (actor.active and appeal.reporter_id == actor.user.pk):
        return "reporter"
    return None


def as_handler_or_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    return as_handler(actor, appeal) or as_dispatcher(actor, appeal)


def as_reporter_or_dispatcher(actor: Actor, appeal: Appeal) -> str | None:
    return as_reporter(actor, appeal) or as_dispatcher(actor, appeal)


def as_supporter(actor: Actor, appeal: Appeal) -> str | None:
    """Residents other than the reporter; staff act on appeals instead of supporting them."""
    if actor.system or as_reporter(actor, appeal) or actor.posts or actor.department_ids:
        return None
    return "resident" if (actor.active or actor.client_key) else None


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    who: Callable[[Actor, Appeal], str | None]


RULES: dict[str, Rule] = {
    "accept": Rule((S.RECEIVED,), as_dispatcher),
    "reject": Rule((S.RECEIVED, S.ACCEPTED, S.RETURNED), as_dispatcher),
    "merge": Rule((S.RECEIVED, S.ACCEPTED, S.RETURNED), as_dispatcher),
    "dispatch": Rule((S.ACCEPTED, S.RETURNED), as_dispatcher),
    "return": Rule((S.DISPATCHED, S.IN_PROGRESS), as_handler),
    "start": Rule((S.DISPATCHED,), as_handler),
    "escalate": Rule((S.DISPATCHED, S.IN_PROGRESS), as_handler_or_dispatcher),
    "extend": Rule((S.DISPATCHED, S.IN_PROGRESS, S.SUSPENDED), as_dispatcher),
    "suspend": Rule((S.DISPATCHED, S.IN_PROGRESS), as_dispatcher),
    "resume": Rule((S.SUSPENDED,), as_dispatcher),
    "resolve": Rule((S.IN_PROGRESS,), as_handler),
    "check_pass": Rule((S.RESOLVED,), as_checker),
    "check_fail": Rule((S.RESOLVED,), as_checker),
    "close": Rule((S.CHECKED,), as_dispatcher),
    "rate": Rule((S.CHECKED,), as_reporter_or_dispatcher),
    "support": Rule(SUPPORTABLE, as_supporter),
}
ACTIONS = tuple(RULES)


def available_actions(appeal: Appeal, actor: Actor) -> list[str]:
    """The actions this actor may take on the appeal in its current state."""
    return [name for name, rule in RULES.items()
            if appeal.status in rule.sources and rule.who(actor, appeal)]


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

    def notify(self, users: list[int], kind: str, **data) -> None:
        self.notices.append((users, kind, data))

    def finish(self) -> AppealEvent:
        appeal = self.appeal
        if self.bump:
            appeal.version += 1
        appeal.save()
        event = AppealEvent.objects.create(
            appeal=appeal, kind=self.kind or self.action, at=self.at,
            actor=self.actor.user_or_none, actor_role=self.role, from_status=self.from_status,
            to_status=appeal.status, note=self.note, data=self.data,
        )
        for photo in self.photos:
            self.saved_files += _store_photo(appeal, event, photo)
        for users, kind, data in self.notices:
            notify(users, appeal, kind, **data)
        return event


def _lock(ref: Appeal | str) -> Appeal:
    """The appeal, locked for this transaction (only its own row: joined rows may be NULL)."""
    rows = Appeal.objects.select_for_update(of=("self",)).select_related(
        "category", "grid", "assigned_grid", "department"
    )
    found = rows.filter(pk=ref.pk) if isinstance(ref, Appeal) else rows.filter(tracking=str(ref))
    appeal = found.first()
    if appeal is None:
        raise Appeal.DoesNotExist(str(ref))
    return appeal


@contextmanager
def _transition(ref: Appeal | str, actor: Actor, action: str, version: int | None,
                at: dt.datetime | None) -> Iterator[Step]:
    rule = RULES[action]
    step: Step | None = None
    try:
        with transaction.atomic():
            appeal = _lock(ref)
            role = rule.who(actor, appeal)
            if not role:
                raise PermissionDenied(
                    _("you may not %(action)s this appeal") % {"action": ACTION_LABELS[action]}
                )
            if version is not None and version != appeal.version:
                raise Conflict(
                    _("the appeal was changed by someone else (version %(now)d, you sent "
                      "%(sent)d); reload it") % {"now": appeal.version, "sent": version},
                    appeal,
                )
            if appeal.status not in rule.sources:
                raise Conflict(
                    _("cannot %(action)s an appeal that is %(status)s")
                    % {"action": ACTION_LABELS[action], "status": appeal.get_status_display()},
                    appeal,
                )
            step = Step(appeal=appeal, actor=actor, role=role, action=action,
                        at=at or timezone.now(), from_status=appeal.status)
            yield step
            step.finish()
    except Exception:
        for name in step.saved_files if step else ():  # files are not transactional
            default_storage.delete(name)
        raise


# --- field checks ----------------------------------------------------------------------------


def _text(value: str | None, name: str, *, required: bool, limit: int = NOTE_MAX) -> str:
    value = (value or "").strip()
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
    if appeal.department_id:
        return appeal.department.name_zh
    if appeal.assigned_grid_id:
        return f"{appeal.assigned_grid.code} {appeal.assigned_grid.name}"
    return ""


def _assignee_data(appeal: Appeal) -> dict:
    return {
        "grid": appeal.assigned_grid.code if appeal.assigned_grid_id else None,
        "department": appeal.department.code if appeal.department_id else None,
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


def accept(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Appeal:
    """受理: the centre takes the appeal in."""
    with _transition(ref, actor, "accept", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.ACCEPTED
        step.appeal.accepted_at = step.at
    return step.appeal


def reject(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
           at: dt.datetime | None = None) -> Appeal:
    """Invalid (not a matter for the grid, abusive, empty…): closed with the reason."""
    with _transition(ref, actor, "reject", version, at) as step:
        step.note = _text(note, "note", required=True)
        step.appeal.status = S.REJECTED
        step.appeal.closed_at = step.at
    return step.appeal


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
            target = _lock(str(master))
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
        AppealEvent.objects.create(
            appeal=target, kind=AppealEvent.Kind.MERGED_IN, at=step.at,
            actor=actor.user_or_none, actor_role=step.role, from_status=target.status,
            to_status=target.status, data={"duplicate": appeal.tracking},
        )
        step.data = {"master": target.tracking}
    return step.appeal


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
            if not grid and not appeal.grid_id:
                raise ValidationError(
                    {"grid": _("the appeal is unlocated: name a grid or a department")}
                )
            target_grid = _current_grid(grid or appeal.grid.code)
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


def resolve(ref: Appeal | str, actor: Actor, *, result: str | None = None,
            photos: list | tuple = (), version: int | None = None, note: str = "",
            at: dt.datetime | None = None) -> Appeal:
    """办结: the result, and an after-photo for categories of the configured kinds."""
    with _transition(ref, actor, "resolve", version, at) as step:
        appeal = step.appeal
        step.note = _text(note, "note", required=False)
        appeal.result = _text(result, "result", required=True)
        step.photos = _clean_photos(photos)
        kinds = settings.GEOGRID.get("RESOLVE_PHOTO_KINDS", ())
        if not step.photos and appeal.category.kind in kinds:
            raise ValidationError({"photos": _("an after-photo is required for this category")})
        deadlines.stop_clock(appeal, step.at)
        appeal.status = S.RESOLVED
        step.data = {"on_time": not deadlines.is_overdue(appeal, step.at),
                     "handling_minutes": appeal.handling_minutes}
        step.notify(checkers_for(appeal), "resolved")
    return step.appeal


def check_pass(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
               at: dt.datetime | None = None) -> Appeal:
    """核查 passed (grid leader or dispatcher): waits for the reporter's feedback."""
    with _transition(ref, actor, "check_pass", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.CHECKED
        step.appeal.checked_at = step.at
    return step.appeal


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


def close(ref: Appeal | str, actor: Actor, *, version: int | None = None, note: str = "",
          at: dt.datetime | None = None) -> Appeal:
    """Closed by a dispatcher without a rating (e.g. the reporter could not be reached)."""
    with _transition(ref, actor, "close", version, at) as step:
        step.note = _text(note, "note", required=False)
        step.appeal.status = S.CLOSED
        step.appeal.closed_at = step.at
    return step.appeal


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


def support(ref: Appeal | str, actor: Actor, *, at: dt.datetime | None = None) -> Appeal:
    """A resident backs an existing appeal; supporters raise its priority. Once per person."""
    with _transition(ref, actor, "support", None, at) as step:
        appeal = step.appeal
        step.bump = False  # not a change of state: concurrent staff actions must not conflict
        try:
            with transaction.atomic():
                Support.objects.create(appeal=appeal, user=actor.user_or_none,
                                       client_key="" if actor.active else actor.client_key)
        except IntegrityError:
            raise Conflict(_("you already support this appeal"), appeal) from None
        appeal.supporters += 1
        step.data = {"supporters": appeal.supporters}
    return step.appeal


SERVICES: dict[str, Callable[..., Appeal]] = {
    "accept": accept, "reject": reject, "merge": merge, "dispatch": dispatch,
    "return": return_, "start": start, "escalate": escalate, "extend": extend,
    "suspend": suspend, "resume": resume, "resolve": resolve, "check_pass": check_pass,
    "check_fail": check_fail, "close": close, "rate": rate, "support": support,
}


def _clean_photos(photos) -> list[CleanPhoto]:
    limit = settings.GEOGRID["APPEAL_MAX_PHOTOS"]
    if len(photos) > limit:
        raise ValidationError({"photos": _("at most %(n)d photos") % {"n": limit}})
    cleaned, errors = [], []
    for number, upload in enumerate(photos, start=1):
        try:
            cleaned.append(clean_photo(upload, number))
        except PhotoError as exc:
            errors.append(str(exc))
    if errors:
        raise ValidationError({"photos": errors})
    return cleaned


def _store_photo(appeal: Appeal, event: AppealEvent, photo: CleanPhoto) -> list[str]:
    stem = f"{appeal.tracking}-after-{secrets.token_hex(4)}"
    row = AppealPhoto(appeal=appeal, event=event, content_type=photo.content_type,
                      width=photo.width, height=photo.height, size_bytes=len(photo.content))
    row.image.save(f"{stem}.{photo.extension}", ContentFile(photo.content), save=False)
    row.thumbnail.save(f"{stem}.jpg", ContentFile(photo.thumbnail), save=False)
    row.save()
    return [row.image.name, row.thumbnail.name]


# --- deadlines watched from cron -------------------------------------------------------------


@dataclass
class OverdueReport:
    warned: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    overdue_at_top: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"warned: {len(self.warned)} {' '.join(self.warned[:20])}".rstrip(),
                f"escalated: {len(self.escalated)} {' '.join(self.escalated[:20])}".rstrip(),
                f"overdue, nothing above to escalate to: {len(self.overdue_at_top)}"]


def escalate_overdue(now: dt.datetime | None = None) -> OverdueReport:
    """Warn at the warning ratio, escalate overdue appeals one grid level — each once per
    deadline (warned_at / overdue_escalated_at), so running it every minute is safe. Rows
    another run holds are skipped (SKIP LOCKED), not waited for."""
    now = now or timezone.now()
    report = OverdueReport()
    with transaction.atomic():
        rows = list(
            Appeal.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("category", "grid", "assigned_grid", "department")
            .filter(status__in=CLOCK_STATUSES, due_at__isnull=False)
            .filter(Q(due_at__lte=now, overdue_escalated_at__isnull=True)
                    | Q(warn_at__lte=now, warned_at__isnull=True, due_at__gt=now))
            .order_by("due_at", "id")
        )
        for appeal in rows:
            if appeal.due_at <= now:
                _escalate_one(appeal, now, report)
            else:
                _warn_one(appeal, now, report)
    return report


def _warn_one(appeal: Appeal, now: dt.datetime, report: OverdueReport) -> None:
    appeal.warned_at = now
    appeal.save(update_fields=["warned_at", "updated_at"])  # no version bump: state unchanged
    percent = round(deadlines.warning_ratio() * 100)
    AppealEvent.objects.create(appeal=appeal, kind=AppealEvent.Kind.WARN, at=now,
                               actor_role="system", from_status=appeal.status,
                               to_status=appeal.status,
                               data={"due_at": _iso(appeal.due_at), "percent": percent})
    notify(assignee_users(appeal), appeal, "warning", due=_iso(appeal.due_at), percent=percent)
    report.warned.append(appeal.tracking)


def _escalate_one(appeal: Appeal, now: dt.datetime, report: OverdueReport) -> None:
    from_status = appeal.status
    before = _assignee_data(appeal)
    code = handler_code(appeal)
    parent = _parent_grid(code) if code else None
    appeal.overdue_escalated_at = now
    appeal.warned_at = appeal.warned_at or now
    if parent is not None:
        appeal.assigned_grid, appeal.department = parent, None
        appeal.escalation_level += 1
        appeal.status = S.DISPATCHED
        appeal.version += 1
        report.escalated.append(appeal.tracking)
    else:
        report.overdue_at_top.append(appeal.tracking)
    appeal.save()
    AppealEvent.objects.create(
        appeal=appeal, kind=AppealEvent.Kind.OVERDUE, at=now, actor_role="system",
        from_status=from_status, to_status=appeal.status,
        data={"from": before, **_assignee_data(appeal), "due_at": _iso(appeal.due_at),
              "escalated": parent is not None, "level": appeal.escalation_level},
    )
    users = set(dispatchers_for(appeal)) | set(assignee_users(appeal) if parent else ())
    notify(users, appeal, "overdue", due=_iso(appeal.due_at), to=_assignee_label(appeal))
