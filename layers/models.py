"""Point layers that live on the grids. Buildings carry the standard-address register."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from geogrid.models import Grid


class Building(models.Model):
    """A building (楼栋/幢) with a point location and a standard address (标准地址)."""

    source_id = models.CharField(_("source id"), max_length=64, unique=True)
    address = models.CharField(_("standard address"), max_length=200)
    estate_or_road = models.CharField(_("estate or road"), max_length=100)
    building_no = models.CharField(_("building number"), max_length=20)
    units = models.PositiveSmallIntegerField(_("units"), default=1)
    households = models.PositiveIntegerField(_("households"), default=0)
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

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        indexes = [models.Index(fields=["estate_or_road", "building_no"], name="building_addr")]

    def __str__(self) -> str:
        return self.address
