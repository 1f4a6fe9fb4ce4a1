"""Care visits for special groups (关爱走访): who is looked after, how often, and every visit.

- `CareGroup`: the groups (低保, 困难特殊, 残疾, 严重精神障碍 …) — data, not code.
- `CareSubject`: a person enrolled in one or more groups, with a risk colour (红黄蓝), its
  reason, who assessed it, a review date and a status. Enrolment, re-assessment and exit are
  `CareProposal`s: proposed by one person, decided by another (the database refuses a proposer
  deciding their own proposal).
- `CareVisitor`: who visits a subject (grid worker, building/micro-unit leader, volunteer…).
- `VisitDue`: one obligation of the visit plan — the regular visit of the colour's interval,
  a 必要访 within 24 hours of a trigger, or an extra round ordered for a holiday or bad weather;
  met by a visit, or cancelled. Its reminder stamps make the reminders idempotent.
- `Visit` and `VisitPhoto`: what happened, where the phone was, what was found.
- `CareEvent`: the subject's timeline (append-only).

Nothing here holds a diagnosis, a medication or an income (PIPL Art. 6; docs/privacy.md).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid.models import Grid
from layers.people.models import Person

NOTE_MAX = 500


class CareGroup(models.Model):
    code = models.SlugField(_("code"), max_length=24, unique=True)
    name = models.CharField(_("name"), max_length=50)
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("care group")
        verbose_name_plural = _("care groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name_zh} ({self.code})"


class Colour(models.TextChoices):
    RED = "red", _("red (high risk)")
    YELLOW = "yellow", _("yellow (attention)")
    BLUE = "blue", _("blue (stable)")


class CareSubject(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        ACTIVE = "active", _("active")
        EXITED = "exited", _("exited")
        REJECTED = "rejected", _("not enrolled")

    class Notice(models.TextChoices):  # how the person was told (PIPL Art. 17, 35)
        IN_PERSON = "in_person", _("in person")
        WRITTEN = "written", _("in writing")
        PHONE = "phone", _("by phone")
        GUARDIAN = "guardian", _("through the guardian")

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="care_records")
    groups = models.ManyToManyField(CareGroup, related_name="+", verbose_name=_("groups"))
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices)
    colour_reason = models.CharField(_("reason for the colour"), max_length=NOTE_MAX)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    assessed_at = models.DateTimeField(_("assessed at"), null=True, blank=True)
    review_due = models.DateField(_("review due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PROPOSED)
    exit_reason = models.CharField(_("exit reason"), max_length=200, blank=True)
    exited_at = models.DateTimeField(_("exited at"), null=True, blank=True)
    notice_given_on = models.DateField(_("enrolment notice given on"), null=True, blank=True)
    notice_method = models.CharField(_("notice method"), max_length=10, choices=Notice.choices,
                                     blank=True)
    last_visit_at = models.DateTimeField(_("last counting visit"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("care subject")
        verbose_name_plural = _("care subjects")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status__in=("proposed", "active")),
                name="care_one_open_subject_per_person",
                violation_error_message=_("this person is already enrolled or proposed")),
            models.CheckConstraint(
                condition=Q(status="exited", exited_at__isnull=False)
                | (~Q(status="exited") & Q(exited_at__isnull=True)),
                name="care_exited_iff_exit_time"),
        ]

    def __str__(self) -> str:
        return f"care subject {self.pk}"


class CareProposal(models.Model):
    """Four eyes: enrolment, re-assessment (colour/groups) and exit are proposed by one person
    and approved or rejected by another."""

    class Kind(models.TextChoices):
        ENROL = "enrol", _("enrolment")
        REASSESS = "reassess", _("re-assessment")
        EXIT = "exit", _("exit")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    subject = models.ForeignKey(CareSubject, on_delete=models.CASCADE, related_name="proposals")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, blank=True)
    groups = ArrayField(models.CharField(max_length=24), default=list, blank=True,
                        verbose_name=_("groups"))
    reason = models.CharField(_("reason"), max_length=NOTE_MAX)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               default=Outcome.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=NOTE_MAX, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("care proposal")
        verbose_name_plural = _("care proposals")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subject"], condition=Q(outcome="pending"),
                                    name="care_one_pending_proposal",
                                    violation_error_message=_(
                                        "a proposal for this subject already waits")),
            models.CheckConstraint(condition=~Q(decided_by=F("proposed_by")),
                                   name="care_proposal_four_eyes",
                                   violation_error_message=_(
                                       "the proposer may not decide their own proposal")),
            models.CheckConstraint(
                condition=Q(outcome="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(outcome="pending") & Q(decided_at__isnull=False,
                                             decided_by__isnull=False)),
                name="care_proposal_decided_iff_not_pending"),
        ]


class CareVisitor(models.Model):
    class Role(models.TextChoices):
        GRID_WORKER = "grid_worker", _("grid worker")
        BUILDING_LEADER = "building_leader", _("building leader")
        MICRO_UNIT_LEADER = "micro_unit_leader", _("micro-unit leader")
        VOLUNTEER = "volunteer", _("volunteer")
        PARTY_HOUSEHOLD = "party_household", _("party-member household (党员中心户)")

    subject = models.ForeignKey(CareSubject, on_delete=models.CASCADE, related_name="visitors")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="care_visits_assigned")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("care visitor")
        verbose_name_plural = _("care visitors")
        ordering = ["subject_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["subject", "user"], condition=Q(until__isnull=True),
                                    name="care_visitor_once_per_subject",
                                    violation_error_message=_(
                                        "already a visitor of this subject")),
            models.CheckConstraint(condition=Q(until__isnull=True) | Q(until__gte=F("since")),
                                   name="care_visitor_period_ordered"),
        ]


class ExtraRound(models.Model):
    """An extra round of visits ordered by community staff (before a holiday, in bad weather)
    for the active subjects of a grid subtree, optionally of some colours only."""

    class Reason(models.TextChoices):
        HOLIDAY = "holiday", _("holiday")
        WEATHER = "weather", _("bad weather")
        OTHER = "other", _("other")

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    colours = ArrayField(models.CharField(max_length=8, choices=Colour.choices), default=list,
                         blank=True, verbose_name=_("colours"))
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    due_at = models.DateTimeField(_("due"))
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    ordered_at = models.DateTimeField(default=timezone.now)
    subjects = models.PositiveIntegerField(_("subjects"), default=0)

    class Meta:
        verbose_name = _("extra round")
        verbose_name_plural = _("extra rounds")
        ordering = ["-ordered_at"]


class VisitDue(models.Model):
    class Kind(models.TextChoices):
        REGULAR = "regular", _("regular visit")
        NECESSARY = "necessary", _("necessary visit (必要访)")
        EXTRA = "extra", _("extra round")

    class Trigger(models.TextChoices):
        DISCHARGE = "discharge", _("discharged from hospital")
        BEREAVEMENT = "bereavement", _("bereavement")
        DISASTER = "disaster", _("disaster")
        URGENT_FINDING = "urgent_finding", _("urgent finding on a visit")
        OTHER = "other", _("other major change")

    subject = models.ForeignKey(CareSubject, on_delete=models.CASCADE, related_name="dues")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices,
                               blank=True)
    extra_round = models.ForeignKey(ExtraRound, null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="dues")
    note = models.CharField(_("note"), max_length=200, blank=True)
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    met_by = models.ForeignKey("Visit", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="met_dues")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # Reminder stamps, one per step and due (the reminders act once: layers.care.reminders).
    warned_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("visit due")
        verbose_name_plural = _("visits due")
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at"], name="visitdue_open_due",
                                condition=Q(met_at__isnull=True, cancelled_at__isnull=True))]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=Q(kind="regular", met_at__isnull=True, cancelled_at__isnull=True),
                name="visitdue_one_open_regular"),
            models.CheckConstraint(condition=Q(met_at__isnull=True) | Q(cancelled_at__isnull=True),
                                   name="visitdue_met_or_cancelled"),
            models.CheckConstraint(condition=Q(kind="necessary") | Q(trigger=""),
                                   name="visitdue_trigger_only_necessary"),
            models.CheckConstraint(
                condition=Q(kind="extra", extra_round__isnull=False)
                | (~Q(kind="extra") & Q(extra_round__isnull=True)),
                name="visitdue_round_iff_extra"),
        ]


class Finding(models.TextChoices):
    OK = "ok", _("ok")
    CONCERN = "concern", _("concern")
    URGENT = "urgent", _("urgent")


FINDING_AREAS = ("living", "safety", "family_care", "services")


class Visit(models.Model):
    """One visit, as recorded on the phone. Append-only: a wrong record is corrected by a note
    on a later visit, never by editing this one."""

    class Kind(models.TextChoices):
        KEY = "key", _("key visit (重点访)")
        NECESSARY = "necessary", _("necessary visit (必要访)")
        ANYTIME = "anytime", _("anytime visit (随时访)")
        REGULAR = "regular", _("regular visit (定期访)")

    class Mode(models.TextChoices):
        HOME = "home", _("at home (上门)")
        CHAT = "chat", _("phone or chat (即时通讯)")
        THIRD_PARTY = "third_party", _("by a third party (委托第三方)")
        PAIRED = "paired", _("paired helper (结对帮扶)")
        RELATIVE = "relative", _("by a relative or neighbour (亲属邻里)")

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="visits")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    visitor_role = models.CharField(_("visitor role"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    location = models.PointField(_("phone location"), srid=4326, null=True, blank=True)
    accuracy_m = models.FloatField(_("location accuracy (m)"), null=True, blank=True)
    distance_m = models.FloatField(_("distance to the home (m)"), null=True, blank=True)
    far = models.BooleanField(_("far from the home"), default=False)
    living = models.CharField(_("basic living"), max_length=8, choices=Finding.choices)
    living_note = models.CharField(max_length=NOTE_MAX, blank=True)
    safety = models.CharField(_("safety"), max_length=8, choices=Finding.choices)
    safety_note = models.CharField(max_length=NOTE_MAX, blank=True)
    family_care = models.CharField(_("family care"), max_length=8, choices=Finding.choices)
    family_care_note = models.CharField(max_length=NOTE_MAX, blank=True)
    services = models.CharField(_("services received"), max_length=8, choices=Finding.choices)
    services_note = models.CharField(max_length=NOTE_MAX, blank=True)
    suggested_colour = models.CharField(_("suggested colour"), max_length=8,
                                        choices=Colour.choices, blank=True)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    counts = models.BooleanField(_("counts for the plan"), default=False)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", db_constraint=False)  # trigger-kept (partitioned)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["subject", "started_at"], name="visit_subject_time"),
                   models.Index(fields=["started_at"], name="visit_time")]
        constraints = [
            models.CheckConstraint(condition=Q(ended_at__gte=F("started_at")),
                                   name="visit_ends_after_start"),
            models.CheckConstraint(
                condition=Q(location__isnull=True, accuracy_m__isnull=True,
                            distance_m__isnull=True)
                | Q(location__isnull=False, accuracy_m__gte=0),
                name="visit_location_with_accuracy"),
        ]

    def findings(self) -> dict[str, str]:
        return {area: getattr(self, area) for area in FINDING_AREAS}

    @property
    def urgent(self) -> bool:
        return Finding.URGENT in self.findings().values()


class VisitPhoto(models.Model):
    """A photo of the visit (the door, the activity — not the person), metadata stripped,
    served only through the care API to those who may see the visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="care/%Y/%m/")
    thumbnail = models.FileField(upload_to="care/%Y/%m/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["id"]


class CareEvent(models.Model):
    """The subject's timeline: proposals, decisions, triggers, visits, reminders, exits.
    Append-only (a trigger refuses UPDATE and DELETE). `data` holds group codes only for
    enrolment and re-assessment rows, and the API hides them from those who may not see the
    groups (layers.care.access)."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        TRIGGERED = "triggered", _("必要访 triggered")
        VISITED = "visited", _("visited")
        VISITOR_ADDED = "visitor_added", _("visitor added")
        VISITOR_ENDED = "visitor_ended", _("visitor ended")
        EXTRA_ROUND = "extra_round", _("extra round ordered")
        WARNED = "warned", _("visitors warned")
        DUE = "due", _("grid worker told: due")
        ESCALATED = "escalated", _("community staff told: overdue")
        OPENED = "opened", _("record opened with a reason")

    subject = models.ForeignKey(CareSubject, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=32, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("care event")
        verbose_name_plural = _("care events")
        ordering = ["at", "id"]
