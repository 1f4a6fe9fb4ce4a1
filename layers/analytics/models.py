"""Hotspots found by clustering appeals; the tile pre-aggregation tables are plain SQL tables
(created by migration 0001, rebuilt by layers.analytics.snapshot.refresh)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _


class Hotspot(models.Model):
    """A dense cluster of appeals of one category (or of all, when clustered across categories)
    over a period: a repeated problem at one place."""

    category = models.ForeignKey(
        "appeals.Category",
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hotspots",
        help_text=_("empty when the appeals were clustered across categories"),
    )
    categories = models.JSONField(_("appeals per category"), default=dict)
    centroid = models.PointField(_("centroid"), srid=4326)
    hull = models.PolygonField(_("hull"), srid=4326, spatial_index=True)
    count = models.PositiveIntegerField(_("appeals"))
    grid_codes = models.JSONField(_("micro-grids"), default=list)
    first_report = models.DateTimeField(_("first report"))
    last_report = models.DateTimeField(_("last report"))
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    eps_m = models.FloatField(_("distance (m)"))
    min_points = models.PositiveSmallIntegerField(_("minimum appeals"))
    active = models.BooleanField(_("active"), default=True)
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("hotspot")
        verbose_name_plural = _("hotspots")
        ordering = ["-count"]
        indexes = [models.Index(fields=["active", "category"], name="hotspot_active_cat")]

    def __str__(self) -> str:
        code = self.category.code if self.category is not None else "*"
        return f"{code} × {self.count}"
