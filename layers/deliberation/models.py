"""协商议事: a proposal for a grid goes through the 122 stages (docs/deliberation.md,
../shared/PEOPLE.md section f).

- `Proposal` 议题: for a grid (a community or below), from a micro-unit leader, a resident,
  staff, or raised from appeals or a wish; its size (小事 / 大事 / 急事), its stage and the reason
  for each decision taken on it (the assessment's reason, the decision's text, the evaluation,
  a withdrawal's reason).
- `ProposalAppeal`: an appeal linked to a proposal, with the limit it had when it was linked
  if it had no deadline of its own (imported history: dispatched, but no `due_at`).
- `Meeting`: a meeting held on it (议事厅 / 院坝会 / online), with the number of those who came
  by kind and the minutes. Counts only, no names: minutes and attendance are not personal data.
- `Decision` 集体决议: one per proposal, published to the grid for a set time.
- `Project`: the decision carried out, with its owner (a name or an organisation) and due date.
- `Offer` 认领: a resource a partner unit, a party member or a volunteer offers the community.
- `ProposalEvent`: the timeline, one row per action (append-only: a trigger refuses UPDATE and
  DELETE).

Stages: proposed → assessed → deliberating → decided → implementing → evaluated → closed, or
rejected (at the assessment) / withdrawn. `status` is generated from the stage (open, closed,
rejected, withdrawn) so lists and indexes need no list of stages.

What the database holds (tested there): a stage has the timestamps and reasons it implies
(assessed → assessed_at and a reason; decided → decided_at; evaluated, closed → the
evaluation; closed → closed_at; withdrawn → withdrawn_at and a reason) in order; one decision
per proposal with all three vote counts or none, each ≥ 0, and publish_until after
published_from; meeting counts ≥ 0 with someone present; one project per proposal, done with
its time; an offer has exactly one who offers it, and a taken offer its proposal.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from geogrid.models import Grid
from layers.appeals.models import Appeal
from layers.volunteering.models import PartnerUnit, Volunteer
from layers.wishes.models import Wish

TITLE_MAX = 100
TEXT_MAX = 2000
REASON_MAX = 500
PLACE_MAX = 200
OWNER_MAX = 100
MINUTES_MAX = 4000


class Stage(models.TextChoices):
    PROPOSED = "proposed", _("proposed (提案)")
    ASSESSED = "assessed", _("accepted at the needs assessment (需求评估)")
    DELIBERATING = "deliberating", _("democratic deliberation (民主商议)")
    DECIDED = "decided", _("collective decision (集体决议)")
    IMPLEMENTING = "implementing", _("being carried out (组织实施)")
    EVALUATED = "evaluated", _("effect evaluated (效果评估)")
    CLOSED = "closed", pgettext_lazy("proposal stage", "closed")
    REJECTED = "rejected", _("rejected at the needs assessment")
    WITHDRAWN = "withdrawn", _("withdrawn")


ENDED = (Stage.CLOSED, Stage.REJECTED, Stage.WITHDRAWN)
OPEN_STAGES = tuple(s for s in Stage if s not in ENDED)
# The stages an order of timestamps implies (the CHECKs below and the services use them).
ASSESSED_ON = (Stage.ASSESSED, Stage.DELIBERATING, Stage.DECIDED, Stage.IMPLEMENTING,
               Stage.EVALUATED, Stage.CLOSED, Stage.REJECTED)
DECIDED_ON = (Stage.DECIDED, Stage.IMPLEMENTING, Stage.EVALUATED, Stage.CLOSED)
EVALUATED_ON = (Stage.EVALUATED, Stage.CLOSED)


class Source(models.TextChoices):
    MICRO_UNIT_LEADER = "micro_unit_leader", _("a micro-unit leader")
    RESIDENT = "resident", _("a resident")
    STAFF = "staff", _("community staff")
    APPEALS = "appeals", _("raised from appeals")
    WISH = "wish", _("raised from a micro-wish")


class Size(models.TextChoices):
    SMALL = "small", _("small matter (小事)")
    BIG = "big", _("big matter (大事)")
    URGENT = "urgent", _("urgent matter (急事)")


class Assessment(models.TextChoices):
    ACCEPT = "accept", _("accept")
    REJECT = "reject", _("reject")


class Effect(models.TextChoices):
    EFFECTIVE = "effective", _("effective")
    PARTLY = "partly", _("partly effective")
    INEFFECTIVE = "ineffective", _("not effective")


def _stage_in(stages: tuple[str, ...]) -> Q:
    return Q(stage__in=[str(s) for s in stages])


def _ordered(later: str, earlier: str) -> Q:
    return Q(**{f"{later}__isnull": True}) | Q(**{f"{earlier}__isnull": True}) | Q(
        **{f"{later}__gte": F(earlier)})


class Proposal(models.Model):
    scope = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("grid"),
                              help_text=_("the grid it is for: a community or a grid in it"))
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    district_code = models.CharField(_("district"), max_length=16, db_index=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    appeals: models.ManyToManyField[Appeal, ProposalAppeal] = models.ManyToManyField(
        Appeal, through="ProposalAppeal", blank=True,
                                     related_name="proposals", verbose_name=_("appeals"))
    wish = models.ForeignKey(Wish, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("micro-wish"))
    size = models.CharField(_("size"), max_length=8, choices=Size.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.CharField(_("description"), max_length=TEXT_MAX, blank=True)
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices,
                             default=Stage.PROPOSED)
    status = models.GeneratedField(
        expression=models.Case(
            *(models.When(stage=s, then=models.Value(str(s))) for s in ENDED),
            default=models.Value("open"), output_field=models.CharField(max_length=12)),
        output_field=models.CharField(max_length=12), db_persist=True,
        verbose_name=_("status"))
    version = models.PositiveIntegerField(_("version"), default=1)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("proposed by"))
    proposed_role = models.CharField(_("proposed as"), max_length=24)
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    assess_due_at = models.DateTimeField(_("to be assessed by"))
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
    assessment = models.CharField(_("assessment"), max_length=8, choices=Assessment.choices,
                                  blank=True)
    assessment_reason = models.CharField(_("reason of the assessment"), max_length=REASON_MAX,
                                         blank=True)
    deliberating_at = models.DateTimeField(_("deliberation began at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    implementing_at = models.DateTimeField(_("carried out from"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    effect = models.CharField(_("effect"), max_length=12, choices=Effect.choices, blank=True)
    evaluation = models.CharField(_("evaluation"), max_length=TEXT_MAX, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdraw_reason = models.CharField(_("reason for withdrawing"), max_length=REASON_MAX,
                                       blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["community", "stage"], name="proposal_community_stage")]
        constraints = [
            models.CheckConstraint(
                name="proposal_assessed_has_reason",
                condition=~_stage_in(ASSESSED_ON)
                | (Q(assessed_at__isnull=False) & ~Q(assessment="")
                   & ~Q(assessment_reason=""))),
            models.CheckConstraint(
                name="proposal_rejected_is_reject",
                condition=~Q(stage=Stage.REJECTED) | Q(assessment=Assessment.REJECT)),
            models.CheckConstraint(
                name="proposal_onward_is_accept",
                condition=~_stage_in(tuple(s for s in ASSESSED_ON if s != Stage.REJECTED))
                | Q(assessment=Assessment.ACCEPT)),
            models.CheckConstraint(
                name="proposal_deliberating_has_time",
                condition=~_stage_in((Stage.DELIBERATING, *DECIDED_ON))
                | Q(deliberating_at__isnull=False)),
            models.CheckConstraint(
                name="proposal_decided_has_time",
                condition=~_stage_in(DECIDED_ON) | Q(decided_at__isnull=False)),
            models.CheckConstraint(
                name="proposal_implementing_has_time",
                condition=~_stage_in((Stage.IMPLEMENTING, *EVALUATED_ON))
                | Q(implementing_at__isnull=False)),
            models.CheckConstraint(
                name="proposal_evaluated_has_evaluation",
                condition=~_stage_in(EVALUATED_ON)
                | (Q(evaluated_at__isnull=False) & ~Q(effect="") & ~Q(evaluation=""))),
            models.CheckConstraint(
                name="proposal_closed_has_time",
                condition=~Q(stage=Stage.CLOSED) | Q(closed_at__isnull=False)),
            models.CheckConstraint(
                name="proposal_withdrawn_has_reason",
                condition=~Q(stage=Stage.WITHDRAWN)
                | (Q(withdrawn_at__isnull=False) & ~Q(withdraw_reason=""))),
            models.CheckConstraint(
                name="proposal_times_in_order",
                condition=_ordered("assessed_at", "proposed_at")
                & _ordered("deliberating_at", "assessed_at")
                & _ordered("decided_at", "deliberating_at")
                & _ordered("implementing_at", "decided_at")
                & _ordered("evaluated_at", "implementing_at")
                & _ordered("closed_at", "evaluated_at")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.stage not in ENDED


class ProposalAppeal(models.Model):
    """An appeal linked to a proposal. `fallback_limit_at`: the appeal's limit computed from
    its dispatch when it had no deadline of its own at linking (imported history); the key-class
    rule uses the appeal's live `due_at` first (layers.deliberation.figures)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="links")
    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="+",
                               db_constraint=False)  # trigger-kept: appeals are partitioned
    linked_at = models.DateTimeField(_("linked at"), default=timezone.now)
    fallback_limit_at = models.DateTimeField(_("limit from the dispatch"), null=True,
                                             blank=True)

    class Meta:
        verbose_name = _("linked appeal")
        verbose_name_plural = _("linked appeals")
        constraints = [models.UniqueConstraint(fields=["proposal", "appeal"],
                                               name="proposal_appeal_once")]

    def __str__(self) -> str:
        return f"{self.proposal_id} ← {self.appeal_id}"


class Venue(models.TextChoices):
    HALL = "hall", _("deliberation hall (议事厅)")
    COURTYARD = "courtyard", _("courtyard meeting (院坝会)")
    ONLINE = "online", _("online")


class Meeting(models.Model):
    """A meeting held on a proposal. Who came is counted by kind, never named."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="meetings")
    held_at = models.DateTimeField(_("held at"))
    venue = models.CharField(_("venue"), max_length=10, choices=Venue.choices)
    place = models.CharField(_("place"), max_length=PLACE_MAX, blank=True)
    residents = models.PositiveIntegerField(_("residents"), default=0)
    owners_committee = models.PositiveIntegerField(_("owners' committee (业委会)"), default=0)
    property_company = models.PositiveIntegerField(_("property company (物业)"), default=0)
    community = models.PositiveIntegerField(_("community"), default=0)
    units = models.PositiveIntegerField(_("units"), default=0)
    minutes = models.CharField(_("minutes"), max_length=MINUTES_MAX, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    ATTENDANCE = ("residents", "owners_committee", "property_company", "community", "units")

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["proposal", "held_at"], name="meeting_first")]
        constraints = [
            models.CheckConstraint(
                name="meeting_counts_not_negative",
                condition=Q(residents__gte=0, owners_committee__gte=0, property_company__gte=0,
                            community__gte=0, units__gte=0)),
            models.CheckConstraint(
                name="meeting_someone_came",
                condition=Q(residents__gt=0) | Q(owners_committee__gt=0)
                | Q(property_company__gt=0) | Q(community__gt=0) | Q(units__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} @ {self.held_at:%Y-%m-%d %H:%M}"

    @property
    def attendance(self) -> int:
        return sum(getattr(self, k) for k in self.ATTENDANCE)


class Decision(models.Model):
    """集体决议: published to the grid from `published_from` until `publish_until`."""

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="decision")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+", verbose_name=_("meeting"))
    text = models.CharField(_("decision"), max_length=TEXT_MAX)
    votes_for = models.PositiveIntegerField(_("for"), null=True, blank=True)
    votes_against = models.PositiveIntegerField(_("against"), null=True, blank=True)
    votes_abstain = models.PositiveIntegerField(_("abstained"), null=True, blank=True)
    published_from = models.DateTimeField(_("published from"))
    publish_until = models.DateTimeField(_("published until"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(name="decision_publish_window",
                                   condition=Q(publish_until__gt=F("published_from"))),
            models.CheckConstraint(
                name="decision_votes_all_or_none",
                condition=Q(votes_for__isnull=True, votes_against__isnull=True,
                            votes_abstain__isnull=True)
                | Q(votes_for__isnull=False, votes_against__isnull=False,
                    votes_abstain__isnull=False, votes_for__gte=0, votes_against__gte=0,
                    votes_abstain__gte=0)),
            models.CheckConstraint(name="decision_text", condition=~Q(text="")),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.text[:40]}"


class Project(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        DROPPED = "dropped", _("dropped")

    proposal = models.OneToOneField(Proposal, on_delete=models.CASCADE, related_name="project")
    owner = models.CharField(_("owner"), max_length=OWNER_MAX,
                             help_text=_("who carries it out: a name or an organisation"))
    due_on = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                name="project_ended_has_time",
                condition=Q(status="running", ended_at__isnull=True)
                | (~Q(status="running") & Q(ended_at__isnull=False))),
            models.CheckConstraint(name="project_owner", condition=~Q(owner="")),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.owner} by {self.due_on}"


class Offer(models.Model):
    """认领: a resource offered to the community by a partner unit or a volunteer (a party
    member is a volunteer of that kind), open until it is taken for a proposal or withdrawn."""

    class Kind(models.TextChoices):
        PARTNER_UNIT = "partner_unit", _("partner unit")
        PARTY_MEMBER = "party_member", _("party member")
        VOLUNTEER = "volunteer", _("volunteer")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("offer status", "open")
        TAKEN = "taken", _("taken for a proposal")
        WITHDRAWN = "withdrawn", _("withdrawn")

    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    partner_unit = models.ForeignKey(PartnerUnit, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    volunteer = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    resource = models.CharField(_("resource"), max_length=TITLE_MAX)
    description = models.CharField(_("description"), max_length=REASON_MAX, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN)
    proposal = models.ForeignKey(Proposal, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="offers", verbose_name=_("proposal"))
    offered_at = models.DateTimeField(_("offered at"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("offers")
        ordering = ["-offered_at", "-id"]
        indexes = [models.Index(fields=["community", "status"], name="offer_open")]
        constraints = [
            models.CheckConstraint(
                name="offer_one_who",
                condition=Q(kind="partner_unit", partner_unit__isnull=False,
                            volunteer__isnull=True)
                | (~Q(kind="partner_unit") & Q(volunteer__isnull=False,
                                               partner_unit__isnull=True))),
            models.CheckConstraint(
                name="offer_taken_for_proposal",
                condition=~Q(status="taken") | Q(proposal__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.resource} ({self.get_status_display()})"


class ProposalEvent(models.Model):
    """One row of a proposal's timeline (append-only: see migration 0001)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=24, blank=True)
    from_stage = models.CharField(max_length=12, blank=True)
    to_stage = models.CharField(max_length=12)
    note = models.CharField(max_length=TEXT_MAX, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("proposal event")
        verbose_name_plural = _("proposal timeline")

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

