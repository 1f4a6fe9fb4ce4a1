"""The people actions: one service function per action, each declared once in a registry.

    HOUSEHOLD_ACTIONS  on a household: move_out, add_member, record_death, change_head,
                       change_contact, set_tags, verify_profile, raise_issue
    DWELLING_ACTIONS   on a dwelling: move_in (a new household), verify_occupancy, change_usage
    CHANGE_ACTIONS     on a reported change: verify (confirm or reject)

Every action runs through `_acting`, in one database transaction: the row is locked (SELECT …
FOR UPDATE), the viewer's right is checked (a household the viewer cannot see → 404, one they
see but may not change → 403), the version the client read (households: stale → 409) and the
state; then the body changes what it must and writes its change-log rows (the audit trail:
who reported, when, what, with identifiers only masked). A failure anywhere — a constraint the
database enforces, such as one open residence per person — rolls the whole action back.

Changes reported by leaders take effect at once and wait for a grid worker's verification
(CHANGE_ACTIONS.verify, by someone other than the reporter); the 四清 ledger counts how long
they wait (layers.people.ledger).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.capabilities import Capability
from geogrid.errors import Conflict, NotFound, integrity_conflict
from layers.people import identity
from layers.people.access import Level, Viewer
from layers.people.inputs import (
    AddMemberInput,
    ContactInput,
    DeathInput,
    HeadInput,
    IssueInput,
    MoveInInput,
    MoveOutInput,
    TagsInput,
    UsageInput,
    VerifyInput,
)
from layers.people.models import (
    ChangeEvent,
    ChangeVerification,
    Dwelling,
    Household,
    HouseholdIssue,
    Person,
    Residence,
)

HOUSEHOLD_ACTIONS = ActionRegistry("household")
DWELLING_ACTIONS = ActionRegistry("dwelling")
CHANGE_ACTIONS = ActionRegistry("change")
ACTIVE = (Household.Status.ACTIVE,)
Kind = ChangeEvent.Kind


# -- who may act (role names recorded nowhere public; the change log keeps the user) --------
def as_reporter(viewer: Viewer, household: Household) -> str | None:
    """The leader of its unit or building, or a post with the report capability in scope."""
    return "reporter" if viewer.may_report(household) else None


def as_verifier(viewer: Viewer, household: Household) -> str | None:
    return "verifier" if viewer.may_verify(household) else None


def _dwelling_grid(dwelling: Dwelling) -> str | None:
    grid = dwelling.building.grid
    return grid.code if grid else None


def as_dwelling_reporter(viewer: Viewer, dwelling: Dwelling) -> str | None:
    if (dwelling.micro_unit_id in viewer.unit_ids or dwelling.building_id in viewer.building_ids
            or viewer.may(Capability.REPORT, _dwelling_grid(dwelling))):
        return "reporter"
    return None


def as_dwelling_verifier(viewer: Viewer, dwelling: Dwelling) -> str | None:
    return "verifier" if viewer.may(Capability.VERIFY, _dwelling_grid(dwelling)) else None


def as_change_verifier(viewer: Viewer, change: ChangeEvent) -> str | None:
    return "verifier" if viewer.may(Capability.VERIFY, change_grid_code(change)) else None


def change_grid_code(change: ChangeEvent) -> str | None:
    if change.household is not None:
        return _dwelling_grid(change.household.dwelling)
    if change.dwelling is not None:
        return _dwelling_grid(change.dwelling)
    return change.micro_unit.grid.code if change.micro_unit is not None else None


def change_state(change: ChangeEvent) -> str:
    verification = getattr(change, "verification", None)
    return verification.outcome if verification else "pending"


# -- the frame ------------------------------------------------------------------------------
@dataclass
class Step:
    obj: Any
    viewer: Viewer
    at: dt.datetime

    @property
    def user(self) -> Any:
        return self.viewer.user if self.viewer.user.is_authenticated else None


_RELATED: dict[Any, tuple[str, ...]] = {
    Household: ("dwelling__building__grid",),
    Dwelling: ("building__grid",),
    ChangeEvent: ("household__dwelling__building__grid", "dwelling__building__grid",
                  "micro_unit__grid", "verification"),
}


def _visible(viewer: Viewer, obj: Any) -> bool:
    if isinstance(obj, Household):
        return viewer.level_of(obj) != Level.NONE
    if isinstance(obj, Dwelling):
        return bool(as_dwelling_reporter(viewer, obj) or as_dwelling_verifier(viewer, obj))
    return bool(as_change_verifier(viewer, obj))


@contextmanager
def _acting(registry: ActionRegistry, model: Any, pk: int, viewer: Viewer, name: str,
            version: int | None, state_of) -> Iterator[Step]:
    action = registry[name]
    try:
        with transaction.atomic():
            try:
                obj = (model.objects.select_for_update(of=("self",))
                       .select_related(*_RELATED[model]).get(pk=pk))
            except model.DoesNotExist as exc:
                raise NotFound(_("not found")) from exc
            if not action.who(viewer, obj):
                if not _visible(viewer, obj):
                    raise NotFound(_("not found"))
                raise PermissionDenied(_("you may not %(action)s here") % {"action": name})
            if action.version and hasattr(obj, "version") and version != obj.version:
                raise Conflict(_("changed by someone else since you read it (version %(v)s)")
                               % {"v": obj.version}, current={"version": obj.version})
            if state_of(obj) not in action.sources:
                raise Conflict(_("not possible in state %(s)s") % {"s": state_of(obj)},
                               current={"state": state_of(obj)})
            step = Step(obj, viewer, timezone.now())
            yield step
            if hasattr(obj, "version"):
                obj.version += 1
                obj.save(update_fields=["version"])
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _event(step: Step, kind: str, *, household: Household | None = None,
           person: Person | None = None, dwelling: Dwelling | None = None,
           effective_date: dt.date | None = None, source: str = ChangeEvent.Source.GRID_WORKER,
           diff: dict | None = None, note: str = "", verified: bool = False) -> ChangeEvent:
    event = ChangeEvent.objects.create(
        kind=kind, household=household, person=person, dwelling=dwelling,
        effective_date=effective_date or timezone.localdate(), source=source,
        reported_by=step.user, reported_at=step.at, diff=diff or {}, note=note[:500])
    if verified:  # a check made by the verifier in person: verified when reported
        ChangeVerification.objects.create(change=event, outcome="confirmed",
                                          verified_by=step.user, verified_at=step.at)
    return event


def _household_of(ref: int, viewer: Viewer, name: str, version: int | None):
    return _acting(HOUSEHOLD_ACTIONS, Household, ref, viewer, name, version,
                   lambda h: h.status)


def _open_residences(household: Household) -> dict[int, Residence]:
    rows = (Residence.objects.select_for_update().select_related("person")
            .filter(household=household, valid_to__isnull=True))
    return {r.person_id: r for r in rows}


def _close(residence: Residence, on: dt.date) -> None:
    if on < residence.valid_from:
        raise ValidationError({"effective_date": _("before this person moved in (%(d)s)")
                               % {"d": residence.valid_from}})
    residence.valid_to = on
    residence.save(update_fields=["valid_to"])


def _successor(open_rows: dict[int, Residence], leaving: set[int], new_head: int | None,
               field: str) -> Residence | None:
    """When the head leaves and others stay, the row of `new_head` (one who stays), checked
    before anything changes; promoted with `_promote` once the head's row is closed."""
    head = next((r for r in open_rows.values() if r.relation == Residence.Relation.HEAD), None)
    staying = set(open_rows) - leaving
    if head is None or head.person_id not in leaving or not staying:
        return None
    if new_head is None or new_head not in staying:
        raise ValidationError({field: _("the head leaves: name the new head among those who "
                                        "stay")})
    return open_rows[new_head]


def _promote(row: Residence | None, step: Step, household: Household, on: dt.date) -> None:
    if row is None:
        return
    old_relation = row.relation
    row.relation = Residence.Relation.HEAD
    row.save(update_fields=["relation"])
    _event(step, Kind.HEAD_CHANGED, household=household, person=row.person, effective_date=on,
           diff={"relation": [old_relation, "head"]})


# -- household actions ----------------------------------------------------------------------
@HOUSEHOLD_ACTIONS.action("move_out", label=gettext_lazy("Move out"), sources=ACTIVE,
                          who=as_reporter, inputs=MoveOutInput)
def move_out(ref: int, viewer: Viewer, *, effective_date: dt.date,
             members: tuple[int, ...] = (), new_head: int | None = None,
             source: str = ChangeEvent.Source.DOOR, version: int | None = None,
             note: str = "") -> Household:
    """Members leave the household; with no members named, the whole household moves out and
    the dwelling is left vacant when no other household lives there."""
    with _household_of(ref, viewer, "move_out", version) as step:
        household: Household = step.obj
        open_rows = _open_residences(household)
        leaving = set(members) or set(open_rows)
        unknown = leaving - set(open_rows)
        if unknown:
            raise ValidationError({"members": _("not members of this household: %(ids)s")
                                   % {"ids": ", ".join(map(str, sorted(unknown)))}})
        successor = _successor(open_rows, leaving, new_head, "new_head")
        for pid in sorted(leaving):
            _close(open_rows[pid], effective_date)
        _promote(successor, step, household, effective_date)
        whole = leaving == set(open_rows)
        if whole:
            household.status = Household.Status.MOVED_OUT
            household.ended_on = effective_date
            household.save(update_fields=["status", "ended_on"])
            _event(step, Kind.MOVE_OUT, household=household, effective_date=effective_date,
                   source=source, note=note, diff={"members": len(leaving)})
            _vacate_if_empty(step, household.dwelling, effective_date)
        else:
            for pid in sorted(leaving):
                _event(step, Kind.MEMBER_LEFT, household=household,
                       person=open_rows[pid].person, effective_date=effective_date,
                       source=source, note=note)
    return household


def _vacate_if_empty(step: Step, dwelling: Dwelling, on: dt.date) -> None:
    if dwelling.households.filter(status=Household.Status.ACTIVE).exists():
        return
    if dwelling.usage != Dwelling.Usage.VACANT:
        old = dwelling.usage
        dwelling.usage = Dwelling.Usage.VACANT
        dwelling.save(update_fields=["usage"])
        _event(step, Kind.USAGE_CHANGED, dwelling=dwelling, effective_date=on,
               source=ChangeEvent.Source.SYSTEM, diff={"usage": [old, "vacant"]})


def _person_for(member: dict) -> Person:
    """The register's person for this ID number (found by its keyed hash), or a new one. A
    person who lives in another household must move out there first."""
    phone = identity.seal_phone(member.get("phone", ""))
    number = member.get("id_number", "")
    person = None
    if member["id_type"] != Person.IdType.NONE:
        person = (Person.objects.select_for_update()
                  .filter(id_hash=identity.id_hash(number)).first())
    if person is not None:
        if person.residences.filter(valid_to__isnull=True).exists():
            raise ValidationError({"id_number": _(
                "already registered in another household; record the move-out there first")})
        if person.died_on:
            raise ValidationError({"id_number": _("registered as deceased")})
        person.name = member["name"]
        if phone.cipher:
            person.phone_cipher, person.phone_masked = phone.cipher, phone.masked
        person.version += 1
        person.save()
        return person
    sealed = identity.seal_id(number) if number else identity.Sealed(None, None, "")
    return Person.objects.create(
        name=member["name"], id_type=member["id_type"], id_cipher=sealed.cipher,
        id_hash=sealed.hash, id_masked=sealed.masked, birth_date=member.get("birth_date"),
        gender=member.get("gender", ""), phone_cipher=phone.cipher, phone_masked=phone.masked,
        population_kind=member.get("population_kind", Person.PopulationKind.REGISTERED))


def _join(step: Step, household: Household, member: dict, on: dt.date, kind: str,
          source: str, note: str) -> Residence:
    person = _person_for(member)
    residence = Residence.objects.create(person=person, household=household,
                                         relation=member["relation"],
                                         presence=member.get("presence", "both"), valid_from=on)
    _event(step, kind, household=household, person=person, effective_date=on, source=source,
           note=note, diff={"relation": residence.relation, "id_number": person.id_masked})
    return residence


@HOUSEHOLD_ACTIONS.action("add_member", label=gettext_lazy("Add a member"), sources=ACTIVE,
                          who=as_reporter, inputs=AddMemberInput)
def add_member(ref: int, viewer: Viewer, *, effective_date: dt.date,
               kind: str = Kind.MOVE_IN, source: str = ChangeEvent.Source.DOOR,
               version: int | None = None, note: str = "", **member: Any) -> Household:
    """A person moves in, or a child is born, into the household."""
    with _household_of(ref, viewer, "add_member", version) as step:
        _join(step, step.obj, member, effective_date, kind, source, note)
    return step.obj


@HOUSEHOLD_ACTIONS.action("record_death", label=gettext_lazy("Record a death"),
                          sources=ACTIVE, who=as_reporter, inputs=DeathInput)
def record_death(ref: int, viewer: Viewer, *, member: int, effective_date: dt.date,
                 new_head: int | None = None, version: int | None = None,
                 note: str = "") -> Household:
    """A member died: their residence ends; the household ends when they lived alone."""
    with _household_of(ref, viewer, "record_death", version) as step:
        household: Household = step.obj
        open_rows = _open_residences(household)
        if member not in open_rows:
            raise ValidationError({"member": _("not a member of this household")})
        successor = _successor(open_rows, {member}, new_head, "new_head")
        row = open_rows[member]
        _close(row, effective_date)
        _promote(successor, step, household, effective_date)
        row.person.died_on = effective_date
        row.person.save(update_fields=["died_on"])
        _event(step, Kind.DEATH, household=household, person=row.person,
               effective_date=effective_date, note=note)
        if len(open_rows) == 1:
            household.status = Household.Status.DISSOLVED
            household.ended_on = effective_date
            household.save(update_fields=["status", "ended_on"])
            _vacate_if_empty(step, household.dwelling, effective_date)
    return household


@HOUSEHOLD_ACTIONS.action("change_head", label=gettext_lazy("Change the head"),
                          sources=ACTIVE, who=as_reporter, inputs=HeadInput)
def change_head(ref: int, viewer: Viewer, *, member: int, effective_date: dt.date,
                version: int | None = None, note: str = "") -> Household:
    with _household_of(ref, viewer, "change_head", version) as step:
        open_rows = _open_residences(step.obj)
        if member not in open_rows:
            raise ValidationError({"member": _("not a member of this household")})
        new = open_rows[member]
        if new.relation == Residence.Relation.HEAD:
            raise ValidationError({"member": _("already the head")})
        for row in open_rows.values():
            if row.relation == Residence.Relation.HEAD:
                row.relation = Residence.Relation.OTHER
                row.save(update_fields=["relation"])
        old = new.relation
        new.relation = Residence.Relation.HEAD
        new.save(update_fields=["relation"])
        _event(step, Kind.HEAD_CHANGED, household=step.obj, person=new.person,
               effective_date=effective_date, note=note, diff={"relation": [old, "head"]})
    return step.obj


@HOUSEHOLD_ACTIONS.action("change_contact", label=gettext_lazy("Change the contact phone"),
                          sources=ACTIVE, who=as_reporter, inputs=ContactInput)
def change_contact(ref: int, viewer: Viewer, *, contact_phone: str,
                   version: int | None = None, note: str = "") -> Household:
    with _household_of(ref, viewer, "change_contact", version) as step:
        household: Household = step.obj
        old = household.contact_phone_masked
        sealed = identity.seal_phone(contact_phone, identity.CONTACT_COLUMN)
        household.contact_phone_cipher, household.contact_phone_masked = (sealed.cipher,
                                                                          sealed.masked)
        household.save(update_fields=["contact_phone_cipher", "contact_phone_masked"])
        _event(step, Kind.CONTACT_CHANGED, household=household, note=note,
               diff={"contact_phone": [old, sealed.masked]})
    return household


@HOUSEHOLD_ACTIONS.action("set_tags", label=gettext_lazy("Set the tags"), sources=ACTIVE,
                          who=as_reporter, inputs=TagsInput)
def set_tags(ref: int, viewer: Viewer, *, tags: list[str], version: int | None = None,
             note: str = "") -> Household:
    """Tags such as 独居, 空巢, 高龄 (settings.GEOGRID["HOUSEHOLD_TAGS"])."""
    with _household_of(ref, viewer, "set_tags", version) as step:
        household: Household = step.obj
        old = list(household.tags)
        household.tags = tags
        household.save(update_fields=["tags"])
        _event(step, Kind.TAGS_CHANGED, household=household, note=note,
               diff={"tags": [old, tags]})
    return household


@HOUSEHOLD_ACTIONS.action("verify_profile", label=gettext_lazy("Profile checked"),
                          sources=ACTIVE, who=as_verifier)
def verify_profile(ref: int, viewer: Viewer, *, version: int | None = None,
                   note: str = "") -> Household:
    """The grid worker checked the household's details in person (户情清)."""
    with _household_of(ref, viewer, "verify_profile", version) as step:
        household: Household = step.obj
        household.profile_verified_at, household.profile_verified_by = step.at, step.user
        household.save(update_fields=["profile_verified_at", "profile_verified_by"])
        _event(step, Kind.PROFILE_CHECKED, household=household, note=note, verified=True)
    return household


@HOUSEHOLD_ACTIONS.action("raise_issue", label=gettext_lazy("Raise an issue"), sources=ACTIVE,
                          who=as_reporter, inputs=IssueInput, version=False, note="none")
def raise_issue(ref: int, viewer: Viewer, *, text: str, category: str = "",
                version: int | None = None) -> HouseholdIssue:
    """A problem found at the household (问题清). With a category it becomes an appeal at once,
    located at the building (never the room) and described by the text only."""
    from layers.appeals.intake import AppealInput, allowed_channels, submit_appeal

    with _household_of(ref, viewer, "raise_issue", None) as step:
        household: Household = step.obj
        issue = HouseholdIssue.objects.create(household=household, text=text,
                                              raised_by=step.user, raised_at=step.at)
        if category:
            building = household.dwelling.building
            channel = "patrol" if "patrol" in allowed_channels(viewer.user) else "mobile"
            try:
                result = submit_appeal(AppealInput(
                    category=category, channel=channel, lon=building.location.x,
                    lat=building.location.y, address=building.address, description=text,
                    client="people"), actor=viewer.user)
            except ValidationError as exc:
                fields = getattr(exc, "message_dict", {"category": exc.messages})
                raise ValidationError({"category" if "category" in fields else "text": [
                    m for messages in fields.values() for m in messages]}) from exc
            issue.appeal, issue.status = result.appeal, HouseholdIssue.Status.REFERRED
            issue.save(update_fields=["appeal", "status"])
    return issue


# -- dwelling actions -----------------------------------------------------------------------
def _dwelling(ref: int, viewer: Viewer, name: str):
    return _acting(DWELLING_ACTIONS, Dwelling, ref, viewer, name, None, lambda d: d.usage)


ANY_USAGE = tuple(Dwelling.Usage.values)


@DWELLING_ACTIONS.action("move_in", label=gettext_lazy("A household moves in"),
                         sources=ANY_USAGE, who=as_dwelling_reporter, inputs=MoveInInput,
                         version=False)
def move_in(ref: int, viewer: Viewer, *, kind: str, members: list[dict],
            effective_date: dt.date, tags: tuple[str, ...] = (), contact_phone: str = "",
            source: str = ChangeEvent.Source.DOOR, version: int | None = None,
            note: str = "") -> Household:
    """A new household with its members; the first of them whose relation is `head` heads it."""
    heads = [m for m in members if m["relation"] == Residence.Relation.HEAD]
    if len(heads) != 1:
        raise ValidationError({"members": _("exactly one member must be the head")})
    with _dwelling(ref, viewer, "move_in") as step:
        dwelling: Dwelling = step.obj
        _check_unit_size(dwelling)
        contact = identity.seal_phone(contact_phone, identity.CONTACT_COLUMN)
        household = Household.objects.create(
            dwelling=dwelling, kind=kind, tags=list(tags), contact_phone_cipher=contact.cipher,
            contact_phone_masked=contact.masked, created_at=step.at)
        _event(step, Kind.MOVE_IN, household=household, dwelling=dwelling,
               effective_date=effective_date, source=source, note=note,
               diff={"members": len(members)})
        for member in members:
            _join(step, household, member, effective_date, Kind.MEMBER_ADDED, source, "")
        if dwelling.usage == Dwelling.Usage.VACANT:
            dwelling.usage = Dwelling.Usage.OWNER
            dwelling.save(update_fields=["usage"])
    return household


def _check_unit_size(dwelling: Dwelling) -> None:
    """With MICRO_UNIT_STRICT, a move-in that would take the unit past its maximum size is
    refused (otherwise the micro-unit list warns)."""
    if dwelling.micro_unit_id is None or not settings.GEOGRID.get("MICRO_UNIT_STRICT"):
        return
    high = settings.GEOGRID["MICRO_UNIT_HOUSEHOLDS"][1]
    active = Household.objects.filter(dwelling__micro_unit_id=dwelling.micro_unit_id,
                                      status=Household.Status.ACTIVE).count()
    if active + 1 > high:
        raise ValidationError({"members": _(
            "the micro-unit already has %(n)d households (at most %(high)d): split it first")
            % {"n": active, "high": high}})


@DWELLING_ACTIONS.action("verify_occupancy", label=gettext_lazy("Occupancy checked"),
                         sources=ANY_USAGE, who=as_dwelling_verifier, version=False)
def verify_occupancy(ref: int, viewer: Viewer, *, version: int | None = None,
                     note: str = "") -> Dwelling:
    """The grid worker checked who lives in the dwelling (人户清)."""
    with _dwelling(ref, viewer, "verify_occupancy") as step:
        dwelling: Dwelling = step.obj
        dwelling.occupancy_verified_at, dwelling.occupancy_verified_by = step.at, step.user
        dwelling.save(update_fields=["occupancy_verified_at", "occupancy_verified_by"])
        _event(step, Kind.OCCUPANCY_CHECKED, dwelling=dwelling, note=note, verified=True)
    return dwelling


@DWELLING_ACTIONS.action("change_usage", label=gettext_lazy("Change the usage"),
                         sources=ANY_USAGE, who=as_dwelling_reporter, inputs=UsageInput,
                         version=False)
def change_usage(ref: int, viewer: Viewer, *, usage: str, version: int | None = None,
                 note: str = "") -> Dwelling:
    with _dwelling(ref, viewer, "change_usage") as step:
        dwelling: Dwelling = step.obj
        if dwelling.usage == usage:
            raise ValidationError({"usage": _("the usage is already %(u)s") % {"u": usage}})
        old = dwelling.usage
        dwelling.usage = usage
        dwelling.save(update_fields=["usage"])
        _event(step, Kind.USAGE_CHANGED, dwelling=dwelling, note=note,
               diff={"usage": [old, usage]})
    return dwelling


# -- change actions -------------------------------------------------------------------------
@CHANGE_ACTIONS.action("verify", label=gettext_lazy("Verify"), sources=("pending",),
                       who=as_change_verifier, inputs=VerifyInput, version=False)
def verify(ref: int, viewer: Viewer, *, outcome: str = ChangeVerification.Outcome.CONFIRMED,
           version: int | None = None, note: str = "") -> ChangeVerification:
    """Confirm (or reject) a reported change after checking it; not by whoever reported it."""
    with _acting(CHANGE_ACTIONS, ChangeEvent, ref, viewer, "verify", None,
                 change_state) as step:
        change: ChangeEvent = step.obj
        if change.reported_by_id is not None and change.reported_by_id == getattr(
                step.user, "pk", None) and not viewer.is_super:
            raise PermissionDenied(_("someone other than the reporter must verify a change"))
        return ChangeVerification.objects.create(change=change, outcome=outcome,
                                                 verified_by=step.user, verified_at=step.at,
                                                 note=note[:500])
