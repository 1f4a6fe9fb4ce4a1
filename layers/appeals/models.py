"""The appeals layer: residents' reports (诉求), each assigned to the micro-grid (version) that
covers it, with their categories, the departments they can go to, the timeline, supports,
notifications and re-assignments.

The tables kept their names when the models moved here from the `layers` app (db_table); see
layers/migrations/0007_moved_to_layer_apps.py."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.functions import RandomUUID
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid.locate import AssignmentMethod
from geogrid.models import Grid
from geogrid.roles import Role
from layers.buildings.models import Building

CONTACT_PHONE_MAX_LENGTH = 20  # Appeal.contact_phone; the API refuses longer numbers


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("component (city asset)")
    EVENT = "event", _("event")
    REQUEST = "request", _("request")


class DeadlineUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")


class Category(models.Model):
    """An appeal category (部件/事件 class, or a request nature) with its deadline class."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    major_zh = models.CharField(_("major class (Chinese)"), max_length=50)
    major_en = models.CharField(_("major class (English)"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=80)
    kind = models.CharField(_("kind"), max_length=16, choices=CategoryKind.choices)
    deadline_class = models.CharField(_("deadline class"), max_length=32)
    deadline_value = models.PositiveSmallIntegerField(_("time limit"))
    deadline_unit = models.CharField(
        _("time limit unit"), max_length=16, choices=DeadlineUnit.choices
    )
    icon = models.CharField(_("icon"), max_length=40, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "layers_category"
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class Channel(models.TextChoices):
    MOBILE = "mobile", _("mobile")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")
    CITY_110 = "city_110", _("110 linkage")
    SNAPSHOT = "snapshot", _("snapshot report")
    PATROL = "patrol", _("patrol")
    QR_CODE = "qr_code", _("QR code")
    WECHAT = "wechat", _("WeChat")


class Status(models.TextChoices):
    # The stored value of the first state stays "received" (intake, imports, analytics use it).
    RECEIVED = "received", _("submitted")
    ACCEPTED = "accepted", _("accepted")
    RETURNED = "returned", _("returned for re-dispatch")
    DISPATCHED = "dispatched", _("dispatched")
    IN_PROGRESS = "in_progress", _("being handled")
    SUSPENDED = "suspended", _("suspended")
    RESOLVED = "resolved", _("resolved")
    CHECKED = "checked", _("checked")
    CLOSED = "closed", _("closed")
    MERGED = "merged", _("merged into another appeal")
    REJECTED = "rejected", _("rejected")


OPEN_STATUSES = (
    Status.RECEIVED,
    Status.ACCEPTED,
    Status.RETURNED,
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.SUSPENDED,
    Status.RESOLVED,
    Status.CHECKED,
)
# The deadline clock runs only while the assignee has the appeal in hand.
CLOCK_STATUSES = (Status.DISPATCHED, Status.IN_PROGRESS)
# Counted as completed (办结) in the statistics.
COMPLETED_STATUSES = (Status.RESOLVED, Status.CHECKED, Status.CLOSED)


class Resolution(models.TextChoices):
    SOLVED = "solved", _("solved")
    PARTLY = "partly", _("partly solved")
    UNSOLVED = "unsolved", _("unsolved")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class Department(models.Model):
    """A functional department (city management, police, power supply…) that appeals can be
    dispatched or escalated to (吹哨报到). Its members handle what is assigned to it."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    district_code = models.CharField(
        _("district"), max_length=16, blank=True, help_text=_("empty: serves every district")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True,
        related_name="departments", db_table="layers_department_members",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        db_table = "layers_department"
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


def public_id_of(ref: str) -> uuid.UUID | None:
    """The public id `ref` spells (the canonical 36-character UUID form), or None: then it is a
    tracking number. Tracking numbers (`350427-20250601-00042`) never take that form."""
    if len(ref) != 36:
        return None
    try:
        value = uuid.UUID(ref)
    except ValueError:
        return None
    return value if str(value) == ref.lower() else None


class AppealQuerySet(models.QuerySet):
    def by_ref(self, ref: str) -> AppealQuerySet:
        """The appeal a URL names: by its public id, or by its tracking number."""
        public = public_id_of(ref)
        return self.filter(public_id=public) if public else self.filter(tracking=ref[:32])

    def visible_to(self, actor: Any) -> AppealQuerySet:
        """Appeals an actor (layers.appeals.actors.Actor) may see: those its posts cover
        (where they lie or who handles them); dispatchers also their district's unlocated
        queue; department members what is assigned to them; people without posts the appeals
        they reported. Superusers see everything."""
        if actor.is_super:
            return self.all()
        if not actor.posts and not actor.department_ids:
            return self.filter(reporter=actor.user) if actor.active else self.none()
        scope = Q(pk__in=[])
        for code, _post in actor.posts:
            scope |= Q(grid__code__startswith=code) | Q(assigned_grid__code__startswith=code)
            if Role.DISPATCHER in actor.roles:
                scope |= Q(grid__isnull=True, district_code__startswith=code)
        if actor.department_ids:
            scope |= Q(department_id__in=actor.department_ids)
        return self.filter(scope)


class Appeal(models.Model):
    """A resident's appeal (诉求) at a place. Never dropped: without a grid it is 'unlocated'."""

    # The readable number is for staff, the hotline and the reporter (with the token): it is
    # sequential, so it opens nothing by itself. The public id (UUID4, 122 random bits) is what
    # anonymous support and the share link use; the database fills it for raw INSERTs too.
    tracking = models.CharField(_("tracking number"), max_length=32, unique=True)
    public_id = models.UUIDField(
        _("public id"), default=uuid.uuid4, db_default=RandomUUID(), unique=True, editable=False,
        help_text=_("unguessable id of the share link and anonymous support"),
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)
    district_code = models.CharField(_("district"), max_length=16, db_index=True)
    location = models.PointField(_("location"), srid=4326, null=True, blank=True)
    raw_x = models.FloatField(_("submitted x / longitude"), null=True, blank=True)
    raw_y = models.FloatField(_("submitted y / latitude"), null=True, blank=True)
    raw_crs = models.CharField(_("submitted CRS"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.SET_NULL
    )
    geocode_score = models.FloatField(_("geocoding score"), null=True, blank=True)
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    source_ref = models.CharField(
        _("source reference"), max_length=64, blank=True, help_text=_("e.g. the 12345 order id")
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="appeals",
    )
    contact_phone = models.CharField(
        _("contact phone"), max_length=CONTACT_PHONE_MAX_LENGTH, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appeals",
        help_text=_("the grid version the appeal was assigned with"),
    )
    assignment = models.CharField(
        _("assignment method"), max_length=16, choices=AssignmentMethod.choices
    )
    assignment_distance_m = models.FloatField(_("distance to the grid (m)"), null=True, blank=True)
    # --- workflow (layers.appeals.workflow); every column has a database default or is nullable, so
    # the set-based importers that INSERT raw rows keep working.
    version = models.PositiveIntegerField(_("version"), default=1, db_default=1)
    assigned_grid = models.ForeignKey(
        Grid, verbose_name=_("assigned grid"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="assigned_appeals",
        help_text=_("the grid whose staff handle the appeal (after escalation, a higher level)"),
    )
    department = models.ForeignKey(
        Department, verbose_name=_("assigned department"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="appeals",
    )
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0, db_default=0
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    clock_started_at = models.DateTimeField(
        _("clock started at"), null=True, blank=True,
        help_text=_("the last dispatch, or the reopening"),
    )
    limit_minutes = models.PositiveIntegerField(
        _("time limit (working minutes)"), null=True, blank=True
    )
    extension_minutes = models.PositiveIntegerField(
        _("extensions (working minutes)"), default=0, db_default=0
    )
    paused_minutes = models.FloatField(_("paused (working minutes)"), default=0, db_default=0)
    paused_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_from = models.CharField(max_length=16, blank=True, default="", db_default="")
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    warn_at = models.DateTimeField(_("warn at"), null=True, blank=True)
    warned_at = models.DateTimeField(_("deadline warning sent at"), null=True, blank=True)
    overdue_escalated_at = models.DateTimeField(
        _("escalated as overdue at"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    handling_minutes = models.FloatField(
        _("handling time (working minutes)"), null=True, blank=True,
        help_text=_("working time from the clock start to the resolution, pauses excluded"),
    )
    result = models.TextField(_("result"), blank=True, default="", db_default="")
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    redo_count = models.PositiveSmallIntegerField(_("redo count"), default=0, db_default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopen count"), default=0, db_default=0)
    resolution = models.CharField(
        _("resolution"), max_length=16, choices=Resolution.choices, blank=True, default="",
        db_default="",
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=24, choices=Satisfaction.choices, blank=True, default="",
        db_default="",
    )
    feedback_comment = models.TextField(_("feedback comment"), blank=True, default="",
                                        db_default="")
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    supporters = models.PositiveIntegerField(_("supporters"), default=0, db_default=0)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="duplicates", db_constraint=False,
    )
    # NULL until resolved; for analytics (the fact table carries it) and the statistics.
    on_time = models.GeneratedField(
        expression=models.ExpressionWrapper(
            Q(resolved_at__lte=models.F("due_at")), output_field=models.BooleanField()
        ),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("on time"),
    )
    reported_at = models.DateTimeField(_("reported at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = AppealQuerySet.as_manager()

    class Meta:
        db_table = "layers_appeal"
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-reported_at"]
        indexes = [
            # Duplicate search and re-assignment look at open appeals only.
            models.Index(fields=["category", "reported_at"], name="appeal_open_cat",
                         condition=Q(status__in=[s.value for s in OPEN_STATUSES])),
            models.Index(fields=["grid", "status"], name="appeal_grid_status"),
            models.Index(fields=["assignment"], name="appeal_unlocated",
                         condition=Q(assignment="unlocated")),
            # escalate_overdue scans running clocks by deadline.
            models.Index(fields=["due_at"], name="appeal_clock_due",
                         condition=Q(status__in=[s.value for s in CLOCK_STATUSES])),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_ref"],
                condition=~Q(source_ref=""),
                name="appeal_unique_source_ref",
            )
        ]

    def __str__(self) -> str:
        return self.tracking


# References to the partitioned appeals and timeline are kept by constraint triggers, not
# foreign keys (db_constraint=False; layers/appeals/partitions.py REFERENCES).


class AppealPhoto(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="photos",
                               db_constraint=False)
    # The appeal's district (filled by the database from the appeal when not given).
    district_code = models.CharField(max_length=16, blank=True, default="", editable=False)
    image = models.ImageField(_("photo"), upload_to="appeals/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="appeals/%Y/%m/thumbs/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    # Photos of the report have no event; after-photos belong to the timeline row (resolve).
    event = models.ForeignKey(
        "AppealEvent", null=True, blank=True, on_delete=models.CASCADE, related_name="photos",
        db_constraint=False,
    )

    class Meta:
        db_table = "layers_appealphoto"
        verbose_name = _("appeal photo")
        verbose_name_plural = _("appeal photos")


class AppealEvent(models.Model):
    """The timeline and audit trail of an appeal: one immutable row per action (a database
    trigger refuses UPDATE; see migration 0005)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("submitted")
        ASSIGNED = "assigned", _("assigned to a grid")
        REASSIGNED = "reassigned", _("re-assigned after a boundary change")
        IMPORTED = "imported", _("imported")
        ACCEPT = "accept", _("accepted")
        REJECT = "reject", _("rejected")
        MERGE = "merge", _("merged as a duplicate")
        MERGED_IN = "merged_in", _("a duplicate was merged in")
        DISPATCH = "dispatch", _("dispatched")
        RETURN = "return", _("returned (wrong dispatch)")
        START = "start", _("handling started")
        ESCALATE = "escalate", _("escalated")
        EXTEND = "extend", _("deadline extended")
        SUSPEND = "suspend", _("suspended")
        RESUME = "resume", _("resumed")
        RESOLVE = "resolve", _("resolved")
        CHECK_PASS = "check_pass", _("check passed")
        CHECK_FAIL = "check_fail", _("check failed: redo")
        CLOSE = "close", _("closed")
        RATE = "rate", _("rated by the reporter")
        REOPEN = "reopen", _("reopened after an unsatisfied rating")
        SUPPORT = "support", _("supported by a resident")
        WARN = "warn", _("deadline warning")
        OVERDUE = "overdue", _("escalated as overdue")
        AUTO_CLOSE = "auto_close", _("closed without feedback")
        RECALENDARED = "recalendared", _("deadline moved by the holiday schedule")
        WHISTLE = "whistle", _("whistle: departments called in")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events",
                               db_constraint=False)
    # The appeal's district (filled by the database from the appeal when not given).
    district_code = models.CharField(max_length=16, blank=True, default="", editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the public sees instead of the actor's name: dispatcher, grid_staff, department,
    # reporter, resident, system.
    actor_role = models.CharField(max_length=16, blank=True, default="", db_default="")
    from_status = models.CharField(max_length=16, blank=True, default="", db_default="")
    to_status = models.CharField(max_length=16, blank=True, default="", db_default="")
    note = models.TextField(blank=True, default="", db_default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "layers_appealevent"
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("timeline rows are immutable")
        super().save(*args, **kwargs)


class Support(models.Model):
    """A resident backing an existing appeal instead of filing a duplicate (one per person)."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="supports",
                               db_constraint=False)
    # The appeal's district (filled by the database from the appeal when not given).
    district_code = models.CharField(max_length=16, blank=True, default="", editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_key = models.CharField(
        max_length=64, blank=True, help_text=_("hash of the client address of anonymous support")
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "layers_support"
        verbose_name = _("support")
        verbose_name_plural = _("supports")
        constraints = [
            # With the district code (the appeal's, so the same keys): the sharding plan
            # distributes supports by district, and Citus checks uniqueness within a shard.
            models.UniqueConstraint(fields=["district_code", "appeal", "user"],
                                    condition=Q(user__isnull=False),
                                    name="support_once_per_user"),
            models.UniqueConstraint(fields=["district_code", "appeal", "client_key"],
                                    condition=Q(user__isnull=True),
                                    name="support_once_per_client"),
        ]


class Notification(models.Model):
    """A message shown in the app; the configured backend may also send it (email/SMS).
    The text is rendered when read, in the reader's language, from `kind` and `data`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    appeal = models.ForeignKey(
        Appeal, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
        db_constraint=False,
    )
    kind = models.CharField(max_length=16)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "layers_notification"
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="notification_unread",
                         condition=Q(read_at__isnull=True)),
        ]


class Reassignment(models.Model):
    """One re-assignment of a building or an open appeal after a grid boundary changed."""

    appeal = models.ForeignKey(
        Appeal, null=True, blank=True, on_delete=models.CASCADE, related_name="reassignments",
        db_constraint=False,
    )
    building = models.ForeignKey(
        Building, null=True, blank=True, on_delete=models.CASCADE, related_name="reassignments"
    )
    old_grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    new_grid = models.ForeignKey(
        Grid, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    old_method = models.CharField(max_length=16, blank=True)
    new_method = models.CharField(max_length=16)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "layers_reassignment"
        verbose_name = _("re-assignment")
        verbose_name_plural = _("re-assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(appeal__isnull=False) | Q(building__isnull=False),
                name="reassignment_has_subject",
            )
        ]


class TrackingSequence(models.Model):
    """Last tracking sequence per district and day; bumped with one atomic upsert."""

    district_code = models.CharField(max_length=16)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "layers_trackingsequence"
        constraints = [
            models.UniqueConstraint(fields=["district_code", "day"], name="tracking_seq_unique")
        ]
