"""吹哨报到: a subdistrict blows the whistle, departments report in (docs/whistles.md,
../shared/PEOPLE.md section g).

- `Whistle`: blown by a subdistrict (or requested by a community and approved by its
  subdistrict), for an appeal or on its own, with a reason (appeal / key task / joint
  enforcement / emergency), a place and two clocks: the report-in limit of each unit and the
  completion limit of the whole.
- `WhistleUnit`: one department called in — exactly one lead (主办) and any number of assisting
  (协办) units. Each is notified, reports in (on site with the phone's location, or accepted
  remotely), works, and is done or released; a refusal needs a reason and a refused lead is
  replaced. The blowing office rates each unit (满意 / 基本满意 / 不满意, speed and quality 1–5).
- `WhistleHelper`: the 三方报到 helpers — on-duty party members and volunteers (their hours go
  to the volunteer points as a service record staff verify) and partner units.
- `WhistleEvent`: the whistle's timeline (append-only: a trigger refuses UPDATE and DELETE).

What the database holds (tested there):
- exactly one lead per blown whistle: a partial unique index allows at most one lead that has
  not been replaced (a refused lead stays the lead until a dispatcher replaces it, in the same
  transaction that adds the new one), and a deferred constraint trigger refuses a commit that
  leaves a blown, working, resolved or closed whistle without one (migration 0002);
- one department once per whistle (among units not replaced);
- at most one open whistle per appeal;
- ratings within their ranges; a rated unit has its rating time.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from geogrid.models import Grid
from layers.appeals.models import Appeal, Department
from layers.volunteering.models import PartnerUnit, ServiceRecord, Volunteer

TITLE_MAX = 100
TEXT_MAX = 2000
NOTE_MAX = 500


class Reason(models.TextChoices):
    APPEAL = "appeal", _("residents' appeal (群众诉求)")
    KEY_TASK = "key_task", _("key task (重点工作)")
    JOINT_ENFORCEMENT = "joint_enforcement", _("joint enforcement (综合执法)")
    EMERGENCY = "emergency", _("emergency (应急处置)")


class Whistle(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("requested by the community")
        BLOWN = "blown", _("blown: waiting for the units to report in")
        WORKING = "working", _("every unit reported in: working")
        RESOLVED = "resolved", _("resolved: waiting for the evaluation")
        CLOSED = "closed", pgettext_lazy("whistle status", "closed")
        CANCELLED = "cancelled", _("cancelled")

    OPEN = (Status.REQUESTED, Status.BLOWN, Status.WORKING, Status.RESOLVED)
    RUNNING = (Status.BLOWN, Status.WORKING)  # the clocks run

    code = models.CharField(_("code"), max_length=24, unique=True)
    district_code = models.CharField(_("district"), max_length=16, db_index=True)
    subdistrict = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                    verbose_name=_("subdistrict"),
                                    help_text=_("the office that blows and evaluates"))
    requested_by_grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("requesting community"))
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="whistles", verbose_name=_("appeal"),
                               db_constraint=False)  # a trigger keeps it: appeals are partitioned
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    description = models.CharField(_("description"), max_length=TEXT_MAX, blank=True)
    location = models.PointField(_("place"), srid=4326, null=True, blank=True)
    proposal = models.JSONField(
        _("requested units"), default=dict, blank=True,
        help_text=_("a community's request: {lead: department code, assists: [codes]}; the "
                    "units are called in when the subdistrict approves"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    blown_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("blown by"))
    blown_at = models.DateTimeField(_("blown at"), null=True, blank=True)
    due_at = models.DateTimeField(_("to be done by"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("warning sent at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("escalated as overdue at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appeal"], name="whistle_one_open_per_appeal",
                condition=Q(appeal__isnull=False) & ~Q(status__in=["closed", "cancelled"])),
        ]
        indexes = [models.Index(fields=["status", "due_at"], name="whistle_running")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Role(models.TextChoices):
    LEAD = "lead", _("lead (主办)")
    ASSIST = "assist", _("assisting (协办)")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY = "basically", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class WhistleUnit(models.Model):
    class Status(models.TextChoices):
        NOTIFIED = "notified", _("notified")
        REPORTED = "reported", _("reported in: working")
        DONE = "done", _("its part done")
        REFUSED = "refused", _("refused")
        RELEASED = "released", _("released")
        REPLACED = "replaced", _("replaced")

    OPEN = (Status.NOTIFIED, Status.REPORTED)
    FINISHED = (Status.DONE, Status.RELEASED)
    # Units that are part of the whistle (a refused unit stays until it is replaced or released).
    PRESENT = (Status.NOTIFIED, Status.REPORTED, Status.DONE, Status.REFUSED, Status.RELEASED)

    class ReportMode(models.TextChoices):
        ON_SITE = "on_site", _("on site")
        REMOTE = "remote", _("accepted remotely")

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="units")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("department"))
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.NOTIFIED)
    version = models.PositiveIntegerField(_("version"), default=1)
    notified_at = models.DateTimeField(_("notified at"))
    report_due_at = models.DateTimeField(_("to report in by"))
    report_warn_at = models.DateTimeField(_("warn at"))
    report_warned_at = models.DateTimeField(_("warning sent at"), null=True, blank=True)
    report_overdue_at = models.DateTimeField(_("escalated as late at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    report_mode = models.CharField(_("how"), max_length=8, choices=ReportMode.choices,
                                   blank=True)
    report_point = models.PointField(_("where reported"), srid=4326, null=True, blank=True)
    report_distance_m = models.FloatField(_("distance from the place (m)"), null=True,
                                          blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=TEXT_MAX, blank=True)
    refused_reason = models.CharField(_("reason for refusing"), max_length=NOTE_MAX,
                                      blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    rating = models.CharField(_("rating"), max_length=12, choices=Rating.choices, blank=True)
    speed = models.PositiveSmallIntegerField(_("speed (1–5)"), null=True, blank=True)
    quality = models.PositiveSmallIntegerField(_("quality (1–5)"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    sent_back = models.PositiveSmallIntegerField(_("times sent back"), default=0)

    class Meta:
        verbose_name = _("called-in unit")
        verbose_name_plural = _("called-in units")
        ordering = ["whistle", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["whistle"], name="whistle_one_lead",
                condition=Q(role="lead") & ~Q(status="replaced")),
            models.UniqueConstraint(
                fields=["whistle", "department"], name="whistle_department_once",
                condition=~Q(status="replaced")),
            models.CheckConstraint(
                name="whistle_unit_scores_1_5",
                condition=(Q(speed__isnull=True) | Q(speed__range=(1, 5)))
                & (Q(quality__isnull=True) | Q(quality__range=(1, 5)))),
            models.CheckConstraint(
                name="whistle_unit_rated_at",
                condition=Q(rating="") | Q(rated_at__isnull=False)),
        ]
        indexes = [models.Index(fields=["status", "report_due_at"], name="whistle_unit_clock")]

    def __str__(self) -> str:
        return f"{self.whistle.code} {self.department.code} {self.role}"


class WhistleHelper(models.Model):
    """三方报到: someone who is not a department reports in to help."""

    class Kind(models.TextChoices):
        PARTY_MEMBER = "party_member", _("on-duty party member")
        VOLUNTEER = "volunteer", _("volunteer")
        PARTNER_UNIT = "partner_unit", _("partner unit")

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="helpers")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    volunteer = models.ForeignKey(Volunteer, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    partner_unit = models.ForeignKey(PartnerUnit, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(_("reported in at"), default=timezone.now)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, null=True,
                                blank=True)
    service_record = models.OneToOneField(ServiceRecord, null=True, blank=True,
                                          on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("helper reporting in")
        verbose_name_plural = _("helpers reporting in")
        constraints = [
            models.CheckConstraint(
                name="whistle_helper_one_who",
                condition=(Q(kind="partner_unit", partner_unit__isnull=False,
                             volunteer__isnull=True)
                           | (~Q(kind="partner_unit") & Q(volunteer__isnull=False,
                                                          partner_unit__isnull=True)))),
            models.UniqueConstraint(fields=["whistle", "volunteer"],
                                    name="whistle_helper_volunteer_once"),
            models.UniqueConstraint(fields=["whistle", "partner_unit"],
                                    name="whistle_helper_unit_once"),
        ]


class WhistleEvent(models.Model):
    """One row of a whistle's timeline (append-only)."""

    whistle = models.ForeignKey(Whistle, on_delete=models.CASCADE, related_name="events")
    unit = models.ForeignKey(WhistleUnit, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="events")
    kind = models.CharField(max_length=16)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=24, blank=True)
    note = models.CharField(max_length=TEXT_MAX, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("whistle event")
        verbose_name_plural = _("whistle timeline")
