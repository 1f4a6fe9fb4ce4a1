"""Point layers that live on the grids. Buildings carry the standard-address register; appeals
are residents' reports, each assigned to the micro-grid (version) that covers it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geogrid.models import Grid


class AssignmentMethod(models.TextChoices):
    COVERS = "covers", _("inside the micro-grid")
    NEAREST = "nearest", _("nearest micro-grid within tolerance")
    ANCESTOR = "ancestor", _("smallest covering ancestor grid")
    UNLOCATED = "unlocated", _("unlocated")


class Building(models.Model):
    """A building (楼栋/幢) with a point location and a standard address (标准地址)."""

    source_id = models.CharField(_("source id"), max_length=64, unique=True)
    address = models.CharField(_("standard address"), max_length=200)
    estate_or_road = models.CharField(_("estate or road"), max_length=100)
    door_no = models.CharField(_("door number"), max_length=20, blank=True, db_default="")
    building_no = models.CharField(_("building number"), max_length=20)
    units = models.PositiveSmallIntegerField(_("units"), default=1)
    households = models.PositiveIntegerField(_("households"), default=0)
    aliases = models.TextField(
        _("aliases"),
        blank=True,
        db_default="",
        help_text=_("other names of this address, one per line (old names, local usage)"),
    )
    location = models.PointField(_("location"), srid=4326, spatial_index=True)
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("micro-grid"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
        help_text=_("the current grid whose boundary covers the building"),
    )
    assignment = models.CharField(
        _("assignment method"),
        max_length=16,
        choices=AssignmentMethod.choices,
        blank=True,
        db_default="",
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        indexes = [models.Index(fields=["estate_or_road", "building_no"], name="building_addr")]

    def __str__(self) -> str:
        return self.address


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
    RECEIVED = "received", _("received")
    ACCEPTED = "accepted", _("accepted")
    DISPATCHED = "dispatched", _("dispatched")
    IN_PROGRESS = "in_progress", _("being handled")
    REPLIED = "replied", _("replied")
    CLOSED = "closed", _("closed")
    MERGED = "merged", _("merged into another appeal")
    REJECTED = "rejected", _("rejected")


OPEN_STATUSES = (
    Status.RECEIVED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.REPLIED,
)


class Appeal(models.Model):
    """A resident's appeal (诉求) at a place. Never dropped: without a grid it is 'unlocated'."""

    tracking = models.CharField(_("tracking number"), max_length=32, unique=True)
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
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
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
    reported_at = models.DateTimeField(_("reported at"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
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


class AppealPhoto(models.Model):
    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="appeals/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="appeals/%Y/%m/thumbs/")
    content_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("appeal photo")
        verbose_name_plural = _("appeal photos")


class AppealEvent(models.Model):
    """The timeline and audit trail of an appeal: one row per action."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("received")
        ASSIGNED = "assigned", _("assigned to a grid")
        REASSIGNED = "reassigned", _("re-assigned after a boundary change")
        IMPORTED = "imported", _("imported")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["at", "id"]


class Reassignment(models.Model):
    """One re-assignment of a building or an open appeal after a grid boundary changed."""

    appeal = models.ForeignKey(
        Appeal, null=True, blank=True, on_delete=models.CASCADE, related_name="reassignments"
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
        constraints = [
            models.UniqueConstraint(fields=["district_code", "day"], name="tracking_seq_unique")
        ]
