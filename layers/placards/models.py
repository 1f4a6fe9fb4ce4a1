"""QR placards (民意二维码): a code on a building, a stairwell, a shop or a place that opens the
report page already located there, with the 四长 board (docs/placards.md).

- `Placard`: an unguessable token (128 random bits, base32) printed as a QR code, what it hangs
  on and its state. The database enforces what each kind needs (a building for building and
  stairwell placards, a name and a point for shops and places) and at most one active placard
  per door: a building, a stairwell, or a shop's name and point.
- `PlacardScanDay`: scans and reports per placard and day — counted, never traced: no address,
  no user, no time of day.
- `PlacardEvent`: the placard's timeline (created, printed, reprinted, revoked, reported).

The placard keeps no grid: the grid is resolved from its point when it is scanned or managed,
so a boundary edit applies at once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from layers.buildings.models import Building

TOKEN_REGEX = r"^[A-Z2-7]{26}$"  # 128 bits, base32 (RFC 4648) without padding
NAME_MAX = 100
REASON_MAX = 200


class Placard(models.Model):
    class Kind(models.TextChoices):
        BUILDING = "building", _("building")
        STAIRWELL = "stairwell", _("stairwell")
        SHOP = "shop", _("shop")
        PLACE = "place", _("place")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        REVOKED = "revoked", _("revoked")

    token = models.CharField(_("token"), max_length=26, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="placards", verbose_name=_("building"))
    unit_no = models.PositiveSmallIntegerField(
        _("unit"), null=True, blank=True,
        help_text=_("the stairwell (单元) of a stairwell placard: its micro-unit is found "
                    "through the dwellings"))
    name = models.CharField(_("name"), max_length=NAME_MAX, blank=True, default="",
                            help_text=_("the shop's or the place's name"))
    point = models.PointField(_("point"), srid=4326, null=True, blank=True,
                              help_text=_("a shop's or a place's location; a building's "
                                          "placards stand at the building's point"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.ACTIVE)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    revoke_reason = models.CharField(_("reason for revoking"), max_length=REASON_MAX,
                                     blank=True, default="")
    print_version = models.PositiveSmallIntegerField(_("print version"), default=1)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by", verbose_name=_("replaces"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("placard")
        verbose_name_plural = _("placards")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(token__regex=TOKEN_REGEX),
                                   name="placard_token_base32"),
            models.CheckConstraint(
                condition=(Q(kind="building", building__isnull=False, unit_no__isnull=True,
                             point__isnull=True, name="")
                           # NULL >= 1 is not false: a CHECK would let a NULL unit through
                           | Q(kind="stairwell", building__isnull=False, unit_no__isnull=False,
                               unit_no__gte=1, point__isnull=True, name="")
                           | Q(kind__in=("shop", "place"), point__isnull=False,
                               unit_no__isnull=True) & ~Q(name="")),
                name="placard_kind_fields"),
            models.CheckConstraint(
                condition=(Q(status="active", revoked_at__isnull=True, revoke_reason="")
                           | Q(status="revoked", revoked_at__isnull=False)
                           & ~Q(revoke_reason="")),
                name="placard_revoked_fields"),
            models.CheckConstraint(condition=Q(print_version__gte=1),
                                   name="placard_print_version_positive"),
            # One active placard per door: a building, a stairwell of it, a shop or a place.
            models.UniqueConstraint(
                fields=["building", "unit_no"], nulls_distinct=False,
                condition=Q(status="active", kind__in=("building", "stairwell")),
                name="placard_one_active_per_door",
                violation_error_message=_("this door has an active placard already")),
            models.UniqueConstraint(
                fields=["kind", "name", "point"],
                condition=Q(status="active", kind__in=("shop", "place")),
                name="placard_one_active_per_shop",
                violation_error_message=_("this shop or place has an active placard already")),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="placard_status_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label} ({self.token[:6]}…)"

    @property
    def location(self):
        """Where the placard hangs: its own point, else its building's (followed if moved)."""
        if self.point is not None:
            return self.point
        return self.building.location if self.building_id else None

    @property
    def label(self) -> str:
        """The full address as printed: 沙县区洋坊新村9幢2单元, or the shop's name."""
        building = self.building if self.building_id else None
        if building is None:
            return self.name
        if self.kind == self.Kind.STAIRWELL:
            return f"{building.address}{self.unit_no}单元"
        if self.kind == self.Kind.BUILDING:
            return building.address
        return f"{self.name}（{building.address}）"


class PlacardScanDay(models.Model):
    """Scans and submitted reports of one placard on one (local) day: counts only."""

    placard = models.ForeignKey(Placard, on_delete=models.CASCADE, related_name="scan_days")
    day = models.DateField(_("day"))
    scans = models.PositiveIntegerField(_("scans"), default=0)
    reports = models.PositiveIntegerField(_("reports"), default=0)

    class Meta:
        verbose_name = _("placard scans per day")
        verbose_name_plural = _("placard scans per day")
        constraints = [
            models.UniqueConstraint(fields=["placard", "day"], name="placard_scan_one_row_a_day"),
        ]


class PlacardEvent(models.Model):
    """The placard's timeline; `data` holds no reporter's data (a report names its appeal)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        PRINTED = "printed", _("printed")
        REPRINTED = "reprinted", _("reprinted")
        REVOKED = "revoked", _("revoked")
        REPORTED = "reported", _("report received")

    placard = models.ForeignKey(Placard, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("placard event")
        verbose_name_plural = _("placard events")
        ordering = ["placard_id", "at", "id"]
