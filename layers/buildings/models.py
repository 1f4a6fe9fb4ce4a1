"""The buildings layer: buildings (楼栋) with a point location and the standard-address register
(标准地址) that geocoding searches. Every building is assigned to the micro-grid that covers it
(geogrid.locate); a boundary change re-assigns the ones it touches (layers.buildings.reassign).

The table kept its name when the model moved here from the `layers` app (db_table)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from geogrid.locate import AssignmentMethod
from geogrid.models import Grid


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
        db_table = "layers_building"
        verbose_name_plural = _("buildings")
        indexes = [models.Index(fields=["estate_or_road", "building_no"], name="building_addr")]

    def __str__(self) -> str:
        return self.address
