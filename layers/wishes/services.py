"""The wish actions: one service function per action, each declared once in a registry.

    post_wish        a resident for their own household, or a grid worker / micro-unit or
                     building leader for a household of theirs (offline 点单) → submitted
    WISH_ACTIONS     publish, reject (review) · withdraw · direct, accept, decline (分类派单) ·
                     claim, cancel, revoke · deliver (≥ 1 photo) · confirm, dispute · settle

States (docs/wishes.md):

    submitted → published | rejected            review by community staff
    published → claimed                         claim, or accept of a directed wish
    claimed   → published                       cancel (claimant), revoke (staff), timeout job
    claimed   → delivered → confirmed           deliver with photos; the wisher (or a proxy)
    delivered → disputed → claimed | closed     settle by community staff
    published → expired | withdrawn             timeout job; the wisher, poster or staff
    submitted → withdrawn

Every action runs in one transaction through `_acting`: the wish row is locked first and then
its live claim (always in that order, as the timeout job does), the viewer's right is checked
(a wish the viewer cannot see → 404, one they see but may not change → 403), then the state
(→ 409), then the body, which writes its timeline row (WishEvent). A constraint the database
enforces (one live claim per wish) turns into a 409. The claimant's cap (MAX_ACTIVE_CLAIMS) is
counted under a lock of the claimant's row (the Volunteer or the PartnerUnit), so two claims by
one claimant at once are serial.

Points: only a confirmation posts them, once per claim (an idempotency key), to the claim's
volunteer and to each participant of a 多对一 claim. A partner unit's claim earns no points:
the ledger has accounts for volunteers, not for units (a member who wants points claims as a
volunteer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from geogrid.actions import ActionRegistry
from geogrid.capabilities import Capability
from geogrid.errors import Conflict, NotFound, integrity_conflict
from geogrid.hierarchy import Level as GridLevel
from geogrid.hierarchy import code_lengths
from geogrid.models import Grid
from geogrid.photos import clean_photos
from layers.appeals.photos import deleting_on_failure
from layers.people.models import Household, Residence
from layers.volunteering.earning import award
from layers.volunteering.ledger import Source
from layers.volunteering.models import PartnerUnit, PointsRule, Volunteer
from layers.wishes import notices
from layers.wishes.access import Level, WishViewer
from layers.wishes.conf import days, wish_setting
from layers.wishes.inputs import ClaimInput, DeliverInput, DirectInput, PublishInput, SettleInput
from layers.wishes.models import NOTE_MAX, Claim, ClaimParticipant, Wish, WishEvent
from layers.wishes.photos import store_claim_photos

WISH_ACTIONS = ActionRegistry("wish")
S = Wish.Status
CS = Claim.Status
Kind = WishEvent.Kind
POINTS_RULE = "wish_confirmed"


# -- who may act ----------------------------------------------------------------------------
def live_claim(wish: Wish) -> Claim | None:
    """The wish's live claim (read, or locked by `_acting`, once per object)."""
    if not hasattr(wish, "_live"):
        wish._live = (Claim.objects.select_related("volunteer", "partner_unit")  # type: ignore[attr-defined]
                      .filter(wish=wish, status__in=Claim.LIVE).first())
    return wish._live  # type: ignore[attr-defined]


def as_reviewer(viewer: WishViewer, wish: Wish) -> str | None:
    return "community_staff" if viewer.may(Capability.WISH_REVIEW, wish.grid.code) else None


def as_helper(viewer: WishViewer, wish: Wish) -> str | None:
    """Grid staff in scope, and the leader of the household's micro-unit or building."""
    if viewer.may(Capability.WISH_GRID, wish.grid.code):
        return "grid_worker"
    level = viewer.level(wish, None)
    return "unit_leader" if level == Level.UNIT else None


def as_wisher(viewer: WishViewer, wish: Wish) -> str | None:
    return "wisher" if viewer.person is not None and viewer.person.pk == wish.wisher_id else None


def as_owner(viewer: WishViewer, wish: Wish) -> str | None:
    """The wisher, whoever posted the wish, and the helpers (withdraw)."""
    if as_wisher(viewer, wish):
        return "wisher"
    if viewer.signed_in and wish.posted_by_id == viewer.user.pk:
        return "poster"
    return as_helper(viewer, wish)


def as_confirmer(viewer: WishViewer, wish: Wish) -> str | None:
    """The wisher; or a helper confirming for them (a proxy, with a note)."""
    return as_wisher(viewer, wish) or ("proxy" if as_helper(viewer, wish) else None)


def as_claimant(viewer: WishViewer, wish: Wish) -> str | None:
    """The lead of the live claim: its volunteer, or a member of its partner unit."""
    claim = live_claim(wish)
    if claim is None or not viewer.signed_in:
        return None
    if claim.partner_unit_id is not None:
        return "claimant" if claim.partner_unit_id in viewer.partner_unit_ids else None
    lead = viewer.volunteer is not None and claim.volunteer_id == viewer.volunteer.pk
    return "claimant" if lead else None


def as_volunteer(viewer: WishViewer, wish: Wish) -> str | None:
    """Volunteers and partner-unit members, on a wish not directed to someone."""
    return "volunteer" if viewer.may_claim and wish.directed_to_id is None else None


def as_directed(viewer: WishViewer, wish: Wish) -> str | None:
    mine = viewer.volunteer is not None and wish.directed_to_id == viewer.volunteer.pk
    return "volunteer" if mine else None


# -- the frame ------------------------------------------------------------------------------
@dataclass
class Step:
    wish: Wish
    claim: Claim | None
    viewer: WishViewer
    at: dt.datetime
    role: str

    @property
    def user(self) -> Any:
        return self.viewer.user


@contextmanager
def _acting(pk: int, viewer: WishViewer, name: str) -> Iterator[Step]:
    action = WISH_ACTIONS[name]
    try:
        with transaction.atomic():
            wish = (Wish.objects.select_for_update(of=("self",))
                    .select_related("grid", "household__dwelling", "wisher").filter(pk=pk).first())
            if wish is None:
                raise NotFound(_("no such wish"))
            claim = (Claim.objects.select_for_update(of=("self",))
                     .select_related("volunteer", "partner_unit")
                     .filter(wish=wish, status__in=Claim.LIVE).first())
            wish._live = claim  # type: ignore[attr-defined]
            role = action.who(viewer, wish)
            if not role:
                if viewer.level(wish, claim) == Level.NONE:
                    raise NotFound(_("no such wish"))
                raise PermissionDenied(_("you may not %(action)s this wish") % {"action": name})
            if wish.status not in action.sources:
                raise Conflict(_("not possible while the wish is %(s)s") % {"s": wish.status},
                               current={"status": wish.status, "version": wish.version})
            yield Step(wish, claim, viewer, timezone.now(), role)
            wish.version += 1
            wish.save(update_fields=["version"])
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _event(step: Step, kind: str, claim: Claim | None = None, /, **data: Any) -> WishEvent:
    """A timeline row; `data` never holds a name or a phone."""
    return WishEvent.objects.create(wish=step.wish, claim=claim or step.claim, kind=kind,
                                    at=step.at, actor=step.user, role=step.role, data=data)


def _note(note: str, *, required: str = "") -> str:
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": _("at most %(n)d characters") % {"n": NOTE_MAX}})
    if required and not note.strip():
        raise ValidationError({"note": required})
    return note.strip()


def _save(obj: Any, **values: Any) -> None:
    for field, value in values.items():
        setattr(obj, field, value)
    obj.save(update_fields=list(values))


def _republish(wish: Wish, at: dt.datetime) -> None:
    """Back on the wall after a claim ended, for at least CLAIM_DAYS more."""
    until = max(wish.publish_until or at, at + days("CLAIM_DAYS"))
    _save(wish, status=S.PUBLISHED, publish_until=until)


# -- posting --------------------------------------------------------------------------------
def next_code(at: dt.datetime) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('wishes_wish_code_seq')")
        seq = cursor.fetchone()[0]
    return f"WX{timezone.localtime(at):%Y%m%d}{seq:06d}"


def _household_for(viewer: WishViewer, household: int | None) -> tuple[Household, str]:
    if household is None:
        if viewer.own_household_id is None:
            raise ValidationError({"household": _(
                "you are not in the register of a household: ask your grid worker to post "
                "the wish for you")})
        household = viewer.own_household_id
    found = (Household.objects.select_related("dwelling__building__grid")
             .filter(pk=household, status=Household.Status.ACTIVE).first())
    if found is None:
        raise NotFound(_("no such household in your scope"))
    grid = found.dwelling.building.grid
    code = grid.code if grid else None
    if viewer.may(Capability.WISH_GRID, code):
        return found, "grid_worker"
    d = found.dwelling
    if d.micro_unit_id in viewer.unit_ids or d.building_id in viewer.building_ids:
        return found, "unit_leader"
    if found.pk == viewer.own_household_id:
        return found, "resident"
    raise NotFound(_("no such household in your scope"))


def _wisher_in(household: Household, wisher: int | None, viewer: WishViewer, role: str) -> int:
    rows = Residence.objects.filter(household=household, valid_to__isnull=True,
                                    person__died_on__isnull=True)
    if role == "resident":
        return viewer.person.pk  # type: ignore[union-attr]  # own household: a person exists
    if wisher is not None:
        if not rows.filter(person_id=wisher).exists():
            raise ValidationError({"wisher": _("not a member of this household")})
        return wisher
    head = rows.order_by("-relation", "id").filter(relation=Residence.Relation.HEAD).first() \
        or rows.order_by("id").first()
    if head is None:
        raise ValidationError({"household": _("nobody lives in this household")})
    return head.person_id


def _community_of(grid: Grid) -> Grid:
    length = code_lengths()[int(GridLevel.COMMUNITY)]
    community = Grid.objects.current().filter(code=grid.code[:length]).first()
    if community is None:
        raise ValidationError({"household": _("the household's community is not known")})
    return community


def post_wish(viewer: WishViewer, *, category: str, title: str, est_value: int,
              household: int | None = None, wisher: int | None = None, public_title: str = "",
              description: str = "", origin: dict[str, int] | None = None) -> Wish:
    """A wish for a household, submitted for review. The public title is what the wall shows;
    without one the title is used, and the reviewer makes sure it names nobody. `origin` (ids
    only, e.g. {"visit": 7}) goes to the timeline: where the wish came from."""
    if not viewer.signed_in:
        raise PermissionDenied(_("log in to post a wish"))
    try:
        with transaction.atomic():
            found, role = _household_for(viewer, household)
            if role == "resident" and wisher not in (None, viewer.person.pk):  # type: ignore[union-attr]
                raise ValidationError({"wisher": _("you post for yourself")})
            person_id = _wisher_in(found, wisher, viewer, role)
            grid = found.dwelling.building.grid
            if grid is None or grid.level != GridLevel.MICRO_GRID:
                raise ValidationError({"household": _("the household's micro-grid is not known")})
            now = timezone.now()
            wish = Wish.objects.create(
                code=next_code(now), wisher_id=person_id, household=found,
                posted_by=viewer.user, posted_role=role, grid=grid,
                community=_community_of(grid), category=category, title=title,
                public_title=(public_title or title).strip(), description=description,
                est_value=est_value, posted_at=now)
            step = Step(wish, None, viewer, now, role)
            _event(step, Kind.POSTED, category=category, est_value=est_value, **(origin or {}))
            notices.tell(notices.reviewers_of(grid.code), "wish_submitted", wish)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
    return wish


# -- review ---------------------------------------------------------------------------------
def _points_reward() -> int:
    rule = PointsRule.objects.filter(code=POINTS_RULE, active=True).first()
    return int(rule.points_per_unit) if rule else 0


@WISH_ACTIONS.action("publish", label=gettext_lazy("Publish on the wall"), sources=(S.SUBMITTED,),
                     who=as_reviewer, inputs=PublishInput, version=False)
def publish(ref: int, viewer: WishViewer, *, public_title: str = "", note: str = "",
            version: int | None = None) -> Wish:
    """Checked (核实审查): on the wall for PUBLISH_DAYS under its public title."""
    with _acting(ref, viewer, "publish") as step:
        w = step.wish
        _save(w, status=S.PUBLISHED, public_title=public_title.strip() or w.public_title,
              published_at=step.at, publish_until=step.at + days("PUBLISH_DAYS"),
              reviewed_by=step.user, reviewed_at=step.at, review_note=_note(note),
              points_reward=_points_reward())
        _event(step, Kind.PUBLISHED, until=w.publish_until.isoformat())  # type: ignore[union-attr]
        notices.tell(notices.wisher_users(w), "wish_published", w)
        return w


@WISH_ACTIONS.action("reject", label=pgettext_lazy("wish action", "Reject"),
                     sources=(S.SUBMITTED,),
                     who=as_reviewer, version=False, note="required")
def reject(ref: int, viewer: WishViewer, *, note: str, version: int | None = None) -> Wish:
    """Not published (not a micro-wish, over the value, already helped…): the note says why."""
    with _acting(ref, viewer, "reject") as step:
        text = _note(note, required=_("say why"))
        _save(step.wish, status=S.REJECTED, reviewed_by=step.user, reviewed_at=step.at,
              review_note=text, ended_at=step.at)
        _event(step, Kind.REJECTED, note=text)
        notices.tell(notices.wisher_users(step.wish), "wish_rejected", step.wish, note=text)
        return step.wish


@WISH_ACTIONS.action("withdraw", label=gettext_lazy("Withdraw"),
                     sources=(S.SUBMITTED, S.PUBLISHED), who=as_owner, version=False)
def withdraw(ref: int, viewer: WishViewer, *, note: str = "", version: int | None = None) -> Wish:
    """No longer wished (before anyone claimed it)."""
    with _acting(ref, viewer, "withdraw") as step:
        _save(step.wish, status=S.WITHDRAWN, ended_at=step.at, directed_to=None,
              direct_until=None)
        _event(step, Kind.WITHDRAWN, note=_note(note))
        return step.wish


# -- directing (分类派单) ---------------------------------------------------------------------
@WISH_ACTIONS.action("direct", label=gettext_lazy("Direct to a volunteer"),
                     sources=(S.PUBLISHED,), who=as_reviewer, inputs=DirectInput, version=False)
def direct(ref: int, viewer: WishViewer, *, volunteer: int, note: str = "",
           version: int | None = None) -> Wish:
    """Off the wall, offered to one volunteer who accepts within DIRECT_ACCEPT_DAYS — or it
    goes back to the wall (decline, or the timeout job)."""
    with _acting(ref, viewer, "direct") as step:
        chosen = Volunteer.objects.filter(pk=volunteer, active=True).first()
        if chosen is None:
            raise ValidationError({"volunteer": _("no such active volunteer")})
        _not_own(step.wish, [chosen], "volunteer")
        _save(step.wish, directed_to=chosen, direct_until=step.at + days("DIRECT_ACCEPT_DAYS"))
        _event(step, Kind.DIRECTED, volunteer=chosen.pk,
               until=step.wish.direct_until.isoformat(), note=_note(note))  # type: ignore[union-attr]
        notices.tell([chosen.user_id], "wish_directed", step.wish)
        return step.wish


@WISH_ACTIONS.action("decline", label=gettext_lazy("Decline"), sources=(S.PUBLISHED,),
                     who=as_directed, version=False)
def decline(ref: int, viewer: WishViewer, *, note: str = "", version: int | None = None) -> Wish:
    """The volunteer cannot take it: back to the wall."""
    with _acting(ref, viewer, "decline") as step:
        _save(step.wish, directed_to=None, direct_until=None)
        _event(step, Kind.DECLINED, note=_note(note))
        notices.tell(notices.reviewers_of(step.wish.grid.code), "direct_lapsed", step.wish)
        return step.wish


# -- claims ---------------------------------------------------------------------------------
def _households_of(person_ids: list[int]) -> set[int]:
    return set(Residence.objects.filter(person_id__in=person_ids, valid_to__isnull=True)
               .values_list("household_id", flat=True))


def _not_own(wish: Wish, volunteers: list[Volunteer], field: str,
             viewer: WishViewer | None = None) -> None:
    """Nobody fulfils their own household's wish (the acting user, the volunteers)."""
    persons = [v.person_id for v in volunteers if v.person_id]
    if viewer is not None and viewer.person is not None:
        persons.append(viewer.person.pk)
    if wish.household_id in _households_of(persons):
        raise ValidationError({field: _("this is your own household's wish")})


def _check_cap(claimant: Q) -> None:
    limit = wish_setting("MAX_ACTIVE_CLAIMS")
    if Claim.objects.filter(claimant, status=CS.ACTIVE).count() >= limit:
        raise Conflict(_("you have %(n)d claims open: deliver or cancel one first") % {"n": limit},
                       current={"active_claims": limit})


def _open_claim(step: Step, *, mode: str, unit_id: int | None,
                participant_ids: list[int]) -> Claim:
    wish, viewer = step.wish, step.viewer
    unit: PartnerUnit | None = None
    lead: Volunteer | None = None
    if unit_id is not None:
        if unit_id not in viewer.partner_unit_ids:
            raise ValidationError({"partner_unit": _("you are not a member of this unit")})
        unit = PartnerUnit.objects.select_for_update().get(pk=unit_id)  # the cap's lock
        if mode == Claim.Mode.UNIT_PAIRING and unit.community_id != wish.community_id:
            raise ValidationError({"partner_unit": _("the unit is not paired with this "
                                                     "wish's community")})
        kind = Claim.ClaimantKind.PARTNER_ORG
        _not_own(wish, [], "partner_unit", viewer)
        _check_cap(Q(partner_unit=unit))
    else:
        if viewer.volunteer is None:
            raise ValidationError({"partner_unit": _("you are not a volunteer: claim for "
                                                     "your unit")})
        lead = Volunteer.objects.select_for_update().get(pk=viewer.volunteer.pk)  # the cap's lock
        kind = (Claim.ClaimantKind.PARTY_MEMBER if lead.kind == Volunteer.Kind.PARTY_MEMBER
                else Claim.ClaimantKind.VOLUNTEER)
        _check_cap(Q(volunteer=lead))
    others = list(Volunteer.objects.filter(pk__in=participant_ids, active=True))
    if len(others) != len(participant_ids) or (lead is not None and lead in others):
        raise ValidationError({"participants": _("unknown or inactive volunteers, or yourself")})
    _not_own(wish, [v for v in (lead, *others) if v is not None],
             "participants" if others else "wish", viewer)
    claim = Claim.objects.create(
        wish=wish, volunteer=lead, partner_unit=unit, claimant_kind=kind, mode=mode,
        acted_by=step.user, claimed_at=step.at, due_at=step.at + days("CLAIM_DAYS"))
    ClaimParticipant.objects.bulk_create([ClaimParticipant(claim=claim, volunteer=v)
                                          for v in others])
    _save(wish, status=S.CLAIMED, directed_to=None, direct_until=None)
    _event(step, Kind.CLAIMED, claim, claim=claim.pk, mode=mode, claimant_kind=kind,
           participants=len(others), due=claim.due_at.isoformat())
    notices.tell(notices.wisher_users(wish), "wish_claimed", wish, claimant=claim.claimant_name)
    return claim


@WISH_ACTIONS.action("claim", label=gettext_lazy("Claim"), sources=(S.PUBLISHED,),
                     who=as_volunteer, inputs=ClaimInput, version=False)
def claim(ref: int, viewer: WishViewer, *, mode: str = Claim.Mode.ONE_TO_ONE,
          partner_unit: int | None = None, participants: list[int] | None = None,
          note: str = "", version: int | None = None) -> Claim:
    """Take the wish on: deliver it within CLAIM_DAYS. You then see the wisher's contact,
    until the claim ends. One live claim per wish (the database refuses a second)."""
    with _acting(ref, viewer, "claim") as step:
        return _open_claim(step, mode=mode, unit_id=partner_unit,
                           participant_ids=list(participants or []))


@WISH_ACTIONS.action("accept", label=pgettext_lazy("wish action", "Accept"),
                     sources=(S.PUBLISHED,),
                     who=as_directed, version=False)
def accept(ref: int, viewer: WishViewer, *, note: str = "", version: int | None = None) -> Claim:
    """The volunteer the wish was directed to takes it on (a one-to-one claim)."""
    with _acting(ref, viewer, "accept") as step:
        return _open_claim(step, mode=Claim.Mode.ONE_TO_ONE, unit_id=None, participant_ids=[])


def _end_claim(step: Step, status: str, kind: str, note: str) -> Claim:
    claim = step.claim
    assert claim is not None  # a claimed/delivered/disputed wish has its live claim
    _save(claim, status=status, ended_at=step.at, end_note=note)
    _event(step, kind, claim=claim.pk, note=note)
    return claim


@WISH_ACTIONS.action("cancel", label=gettext_lazy("Cancel my claim"), sources=(S.CLAIMED,),
                     who=as_claimant, version=False)
def cancel(ref: int, viewer: WishViewer, *, note: str = "", version: int | None = None) -> Wish:
    """The claimant cannot do it after all: the wish goes back to the wall, no points."""
    with _acting(ref, viewer, "cancel") as step:
        _end_claim(step, CS.CANCELLED, Kind.CANCELLED, _note(note))
        _republish(step.wish, step.at)
        notices.tell(notices.wisher_users(step.wish), "wish_released", step.wish,
                     how=str(CS.CANCELLED.label))
        return step.wish


@WISH_ACTIONS.action("revoke", label=gettext_lazy("Revoke the claim"), sources=(S.CLAIMED,),
                     who=as_reviewer, version=False, note="required")
def revoke(ref: int, viewer: WishViewer, *, note: str, version: int | None = None) -> Wish:
    """Community staff end a claim (the claimant is unreachable, misbehaves…): back to the wall."""
    with _acting(ref, viewer, "revoke") as step:
        claim = _end_claim(step, CS.REVOKED, Kind.REVOKED, _note(note, required=_("say why")))
        _republish(step.wish, step.at)
        how = str(CS.REVOKED.label)
        notices.tell(notices.claimant_users(claim), "claim_ended", step.wish, how=how)
        notices.tell(notices.wisher_users(step.wish), "wish_released", step.wish, how=how)
        return step.wish


@WISH_ACTIONS.action("deliver", label=gettext_lazy("Delivered"), sources=(S.CLAIMED,),
                     who=as_claimant, inputs=DeliverInput, version=False)
def deliver(ref: int, viewer: WishViewer, *, photos: list | tuple = (), note: str = "",
            version: int | None = None) -> Wish:
    """Done, with at least one photo of the delivery (metadata stripped); the wisher confirms."""
    if not photos:
        raise ValidationError({"photos": _("add at least one photo")})
    cleaned = clean_photos(list(photos))
    with deleting_on_failure() as saved, _acting(ref, viewer, "deliver") as step:
        claim = step.claim
        assert claim is not None
        _save(claim, status=CS.DELIVERED, delivered_at=step.at, delivery_note=_note(note))
        store_claim_photos(claim, cleaned, step.user, saved)
        _save(step.wish, status=S.DELIVERED)
        _event(step, Kind.DELIVERED, claim=claim.pk, photos=len(cleaned))
        notices.tell(notices.wisher_users(step.wish), "wish_delivered", step.wish)
        return step.wish


def _award(step: Step, claim: Claim) -> list[dict]:
    """Points to the volunteer and each participant, once per claim and volunteer (keys)."""
    if claim.volunteer is None:
        return []  # a partner unit's claim: units have no points account
    volunteers = [claim.volunteer, *(p.volunteer for p in
                                     claim.participants.select_related("volunteer"))]
    out = []
    for v in volunteers:
        key = f"wish-claim:{claim.pk}:confirmed"
        if v.pk != claim.volunteer_id:
            key += f":v{v.pk}"
        posted = award(v, POINTS_RULE, source=Source("claim", claim.pk), key=key, by=step.user,
                       grid_id=step.wish.community_id, note=step.wish.code)
        out.append({"volunteer": v.pk, "points": posted.entry.amount if posted else 0})
    return out


@WISH_ACTIONS.action("confirm", label=gettext_lazy("Confirm: received"),
                     sources=(S.DELIVERED,), who=as_confirmer, version=False)
def confirm(ref: int, viewer: WishViewer, *, note: str = "", version: int | None = None) -> Wish:
    """The wisher received it (or a grid worker / micro-unit leader confirms for them, saying
    why in the note): the volunteers earn their points, once."""
    with _acting(ref, viewer, "confirm") as step:
        claim = step.claim
        assert claim is not None
        proxy = step.role == "proxy"
        text = _note(note, required=_("say how the wisher confirmed (you confirm for them)")
                     if proxy else "")
        _save(claim, status=CS.CONFIRMED, confirmed_at=step.at, confirmed_by=step.user,
              confirmed_as=step.role, proxy_note=text if proxy else "")
        _save(step.wish, status=S.CONFIRMED, ended_at=step.at)
        points = _award(step, claim)
        _event(step, Kind.CONFIRMED, claim=claim.pk, proxy=proxy, note=text, points=points)
        notices.tell(notices.claimant_users(claim), "wish_confirmed", step.wish)
        return step.wish


@WISH_ACTIONS.action("dispute", label=gettext_lazy("Not received as promised"),
                     sources=(S.DELIVERED,), who=as_confirmer, version=False, note="required")
def dispute(ref: int, viewer: WishViewer, *, note: str, version: int | None = None) -> Wish:
    """The wisher says it was not delivered as promised: community staff settle it."""
    with _acting(ref, viewer, "dispute") as step:
        text = _note(note, required=_("say what is wrong"))
        _save(step.wish, status=S.DISPUTED)
        _event(step, Kind.DISPUTED, note=text)
        users = set(notices.reviewers_of(step.wish.grid.code))
        if step.claim is not None:
            users.update(notices.claimant_users(step.claim))
        notices.tell(users, "wish_disputed", step.wish)
        return step.wish


@WISH_ACTIONS.action("settle", label=gettext_lazy("Settle the dispute"),
                     sources=(S.DISPUTED,), who=as_reviewer, inputs=SettleInput,
                     version=False, note="required")
def settle(ref: int, viewer: WishViewer, *, outcome: str, note: str,
           version: int | None = None) -> Wish:
    """`redo`: back to the claimant, due again in CLAIM_DAYS (claimed); `close`: the wish
    ends without points (closed, the claim revoked)."""
    with _acting(ref, viewer, "settle") as step:
        text = _note(note, required=_("say how it was settled"))
        claim = step.claim
        assert claim is not None
        if outcome == "redo":
            _save(claim, status=CS.ACTIVE, delivered_at=None, due_at=step.at + days("CLAIM_DAYS"))
            _save(step.wish, status=S.CLAIMED)
        else:
            _save(claim, status=CS.REVOKED, ended_at=step.at, end_note=text)
            _save(step.wish, status=S.CLOSED, ended_at=step.at)
        _event(step, Kind.SETTLED, claim=claim.pk, outcome=outcome, note=text)
        users = set(notices.claimant_users(claim)) | set(notices.wisher_users(step.wish))
        notices.tell(users, "wish_settled", step.wish, how=outcome)
        return step.wish
