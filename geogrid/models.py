"""The grid hierarchy (区—街道—社区—片区—微网格) and the people responsible for each grid.

A Grid row is one *version* of a grid: its code is stable across versions, and exactly one
version per code is current (`valid_to` is NULL). Children, staff and open work point at the
current version; a boundary change closes the old row and re-points them (see docs/grid-model.md).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import IsValid
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db.models import F, Func, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid.geometry import BoundaryError, as_boundary
from geogrid.hierarchy import Level, code_problem

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class GeodesicArea(Func):
    """Area in m² on the WGS 84 spheroid: geometry cast to geography, never square degrees."""

    template = "ST_Area((%(expressions)s)::geography)"
    output_field = models.FloatField()


class CurrentGridQuerySet(models.QuerySet):
    def current(self) -> CurrentGridQuerySet:
        return self.filter(valid_to__isnull=True)

    def as_of(self, moment) -> CurrentGridQuerySet:
        """The versions that were valid at `moment` (a datetime)."""
        return self.filter(
            Q(valid_to__isnull=True) | Q(valid_to__gt=moment), valid_from__lte=moment
        )

    def subtree(self, code: str) -> CurrentGridQuerySet:
        """A grid and all its descendants: codes are hierarchical, so a prefix match."""
        return self.filter(code__startswith=code)


class Grid(models.Model):
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent grid"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, spatial_index=True)
    area_m2 = models.GeneratedField(
        expression=GeodesicArea(F("boundary")),
        output_field=models.FloatField(),
        db_persist=True,
        verbose_name=_("area (m²)"),
    )
    valid_from = models.DateTimeField(_("valid from"), default=timezone.now)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("who created this version; empty for imports run by the system"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CurrentGridQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(valid_to__isnull=True),
                name="grid_code_unique_current",
                violation_error_message=_("a current grid with this code already exists"),
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=5), name="grid_level_1_to_5"
            ),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]+$"), name="grid_code_digits"),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
                name="grid_parent_iff_not_district",
            ),
            models.CheckConstraint(condition=IsValid("boundary"), name="grid_boundary_valid"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from")),
                name="grid_validity_ordered",
            ),
        ]
        indexes = [
            # Prefix (subtree) lookups on codes: LIKE '350427001%'.
            models.Index(
                fields=["code"], name="grid_code_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["parent"], name="grid_parent_current", condition=Q(valid_to__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    def clean(self) -> None:
        errors: dict[str, list[StrOrPromise]] = {}
        parent = self.parent
        if self.level == Level.DISTRICT and parent is not None:
            errors.setdefault("parent", []).append(_("a district has no parent grid"))
        elif self.level and self.level != Level.DISTRICT:
            if parent is None:
                errors.setdefault("parent", []).append(
                    _("a %(level)s needs a parent grid one level up")
                    % {"level": Level(self.level).label}
                )
            elif parent.level != self.level - 1:
                errors.setdefault("parent", []).append(
                    _("the parent of a %(level)s must be a %(want)s, not a %(got)s")
                    % {
                        "level": Level(self.level).label,
                        "want": Level(self.level - 1).label,
                        "got": Level(parent.level).label,
                    }
                )
            elif not parent.is_current:
                errors.setdefault("parent", []).append(
                    _("the parent grid is not a current version")
                )
        if self.level:
            problem = code_problem(self.level, self.code, parent.code if parent else None)
            if problem:
                errors.setdefault("code", []).append(problem)
        if self.boundary is not None:  # a missing one is reported by field validation
            try:
                self.boundary = as_boundary(self.boundary)
            except BoundaryError as exc:
                errors.setdefault("boundary", []).append(str(exc))
        if errors:
            raise ValidationError(errors)


class Post(models.TextChoices):
    MANAGER = "manager", _("grid manager")
    DISPATCHER = "dispatcher", _("dispatcher")
    GRID_LEADER = "grid_leader", _("grid leader")
    GRID_WORKER = "grid_worker", _("grid worker")
    ZONE_LEADER = "zone_leader", _("zone leader")
    BUILDING_LEADER = "building_leader", _("building leader")
    MICRO_UNIT_LEADER = "micro_unit_leader", _("micro-unit leader")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("subdistrict staff")
    CARE_OFFICER = "care_officer", _("care officer (民政专干)")


# Which posts do what (one definition, used by the workflow, notifications and access):
HANDLING_POSTS = (Post.GRID_LEADER, Post.GRID_WORKER, Post.ZONE_LEADER, Post.MANAGER)
"""Posts whose holders handle an appeal dispatched to their grid (or a grid below it)."""
CHECKING_POSTS = (Post.GRID_LEADER, Post.ZONE_LEADER, Post.MANAGER)
"""Posts whose holders may check (核查) a resolved appeal in their subtree."""
CHECK_REQUEST_POSTS = (Post.GRID_LEADER, Post.ZONE_LEADER)
"""Posts told that a result waits for their check (the managers above see it in lists)."""


class StaffAssignmentQuerySet(models.QuerySet):
    def current(self, on: dt.date | None = None) -> StaffAssignmentQuerySet:
        """Posts held on `on` (default today, local time) on current grid versions."""
        day = on or timezone.localdate()
        return self.filter(Q(until__isnull=True) | Q(until__gte=day), since__lte=day,
                           grid__valid_to__isnull=True)


class StaffAssignment(models.Model):
    """A person's post on a grid. The grid and its whole subtree are theirs to act on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="staff_assignments",
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="staff"
    )
    post = models.CharField(_("post"), max_length=32, choices=Post.choices)
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)
    phone = models.CharField(
        _("duty phone"),
        max_length=20,
        blank=True,
        help_text=_("the number shown on the grid's notice board for this post"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = StaffAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        ordering = ["grid__code", "post", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "grid", "post"],
                condition=Q(until__isnull=True),
                name="staff_unique_active_post",
                violation_error_message=_("this person already holds this post on this grid"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_post_display()} · {self.grid.code}"


class HolidaySchedule(models.Model):
    """The State Council's holiday schedule for one year, imported by the admin
    (geogrid.holiday_schedule). Its days are WorkingDayOverride rows; once a year has a
    schedule its deadlines are no longer provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=200,
                              help_text=_("The notice, e.g. 国办发明电〔2026〕7号"))
    text = models.TextField(_("text of the notice"))
    imported_at = models.DateTimeField(_("imported at"), auto_now=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("imported by"),
    )

    class Meta:
        verbose_name = _("holiday schedule")
        verbose_name_plural = _("holiday schedules")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2200),
                                   name="holiday_schedule_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.source}"


class WorkingDayOverride(models.Model):
    """A deployment's own answer for one date: a holiday, a make-up working day, a day of an
    imported State Council schedule (`schedule` set), or a local exception. Overrides always
    win (geogrid.calendar_db)."""

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=100, blank=True)
    schedule = models.ForeignKey(
        HolidaySchedule, on_delete=models.CASCADE, null=True, blank=True,
        related_name="days", verbose_name=_("from schedule"),
    )

    class Meta:
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'+' if self.is_working else '-'} {self.note}".strip()


class RateCounter(models.Model):
    """One client's hits in the current window of one rate limit (geogrid.ratelimit).

    Every gunicorn worker counts in this one table, with one atomic upsert per hit. The table is
    UNLOGGED (migration 0006): counters are throwaway, so they skip the write-ahead log, and a
    crash of the database empties them (every client starts a fresh window)."""

    pk = models.CompositePrimaryKey("scope", "client")
    scope = models.CharField(max_length=32)
    client = models.CharField(max_length=128)
    hits = models.PositiveIntegerField()
    window_ends = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.scope} {self.client}: {self.hits} until {self.window_ends:%H:%M:%S}"


class AccessLog(models.Model):
    """One read of personal data: a record, a list, an unmask, an export or a print.

    Append-only: a database trigger refuses UPDATE and DELETE (migration 0010); only the
    retention purge, inside a transaction that sets `geogrid.purge`, may delete old rows. No
    plaintext: subjects are row ids, fields are names. Written by geogrid.accesslog."""

    class Action(models.TextChoices):
        READ = "read", _("read a record")
        LIST = "list", _("read a list")
        UNMASK = "unmask", _("unmask")
        EXPORT = "export", _("export")
        PRINT = "print", _("print")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                             related_name="+", verbose_name=_("user"))
    username = models.CharField(_("login name"), max_length=150, blank=True)
    post = models.CharField(_("post"), max_length=32, blank=True,
                            help_text=_("the post that gave access (or the role)"))
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    subject_type = models.CharField(_("subject type"), max_length=32)
    subject_ids = ArrayField(models.BigIntegerField(), verbose_name=_("subjects"))
    fields = ArrayField(models.CharField(max_length=32), default=list, blank=True,
                        verbose_name=_("fields"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    path = models.CharField(_("path"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("personal-data access")
        verbose_name_plural = _("personal-data access log")
        ordering = ["-at"]
        indexes = [models.Index(fields=["user", "at"], name="accesslog_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.subject_type}"


class ApiClient(models.Model):
    """Another system that talks to GeoGrid with a key: a department's work-order system, the
    12345 hotline, a GIS reading the OGC API (geogrid.apiclients).

    The key is shown once when issued and stored only as its SHA-256 (a 256-bit random key
    needs no slow hash); `key_prefix` finds the row and is what the admin shows. What a client
    may do is `permissions`; where, `scopes` (grid codes: a scope covers its subtree). Its
    workflow actions run as `user`, a service account with no password: the same role, post
    and department checks as a person's action, and the timeline names the client."""

    class Permission(models.TextChoices):
        SUBMIT = "submit", _("submit appeals (Open311 POST requests)")
        UPDATE = "update", _("post updates that move appeals (Open311 servicerequestupdates)")
        READ_APPEALS = "read_appeals", _("read appeals in scope (Open311, OGC API)")
        READ_BUILDINGS = "read_buildings", _("read buildings in scope (OGC API)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client",
        verbose_name=_("service account"),
        help_text=_("its workflow actions run as this account: give it the department or the "
                    "posts it acts for"))
    key_prefix = models.CharField(_("key prefix"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    permissions = ArrayField(
        models.CharField(max_length=16, choices=Permission.choices), default=list, blank=True,
        verbose_name=_("permissions"))
    scopes = ArrayField(
        models.CharField(max_length=32), default=list, blank=True, verbose_name=_("grid scopes"),
        help_text=_("grid codes, comma-separated; each covers its subtree"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    key_issued_at = models.DateTimeField(_("key issued at"), null=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, editable=False)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def may(self, permission: str) -> bool:
        return self.active and permission in self.permissions

    def covers(self, code: str | None) -> bool:
        """True when `code` lies in one of the client's scopes (a scope covers its subtree)."""
        return bool(code) and any(code.startswith(s) for s in self.scopes)  # type: ignore[union-attr]

    def scope_q(self, field: str) -> Q:
        """A filter on a grid-code column: rows in the client's scopes (nothing when none)."""
        q = Q(pk__in=[])
        for scope in self.scopes:
            q |= Q(**{f"{field}__startswith": scope})
        return q
