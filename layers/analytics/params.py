"""Query parameters of the analytics endpoints, one serializer each (they document themselves in
/api/docs/ and refuse a bad value with a 400 naming the parameter, never a 500).

Appeal tiles, heat, counts and per-grid rates read the map layers' filter
(layers.analytics.filters.MapFilterParams, itself the appeal list's shared filter plus a period)
and add their own: bbox, zoom, level, parent. Grid tiles and hotspots take a part of it.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geogrid.hierarchy import Level
from layers.appeals.filters import AppealFilterParams, QueryParams, grid_code_field, whole_number

from .filters import MapFilterParams

MAX_ZOOM = 22


@extend_schema_field(OpenApiTypes.STR)
class BBoxField(serializers.Field):
    """west,south,east,north in degrees (WGS 84), e.g. 117.78,26.38,117.83,26.42."""

    def to_internal_value(self, data: Any) -> tuple[float, float, float, float]:
        message = _("west,south,east,north in degrees")
        try:
            west, south, east, north = (float(v) for v in str(data).split(","))
        except ValueError:
            raise serializers.ValidationError(message) from None
        if not all(map(math.isfinite, (west, south, east, north))) or not (
                -180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise serializers.ValidationError(message)
        return west, south, east, north

    def to_representation(self, value: tuple[float, ...]) -> str:
        return ",".join(map(str, value))


def level_field(**kwargs: Any) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=Level.choices, required=False,
        error_messages={"invalid_choice": gettext_lazy("a grid level from 1 to 5")}, **kwargs)


def zoom_field(**kwargs: Any) -> serializers.IntegerField:
    return whole_number(0, MAX_ZOOM, default=12, help_text="the map's zoom level", **kwargs)


class HeatParams(MapFilterParams):
    """GET /api/v1/heat"""

    bbox = BBoxField(help_text="the map's view: west,south,east,north in degrees")
    zoom = zoom_field()


class CountParams(MapFilterParams):
    """GET /api/v1/heat/count"""

    bbox = BBoxField(required=False, default=None,
                     help_text="the map's view: west,south,east,north in degrees "
                               "(default: the whole scope)")
    zoom = zoom_field()


class GridRateParams(MapFilterParams):
    """GET /api/v1/heat/grids"""

    level = level_field(default=Level.MICRO_GRID, help_text="the grid level of the rows (1–5)")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # A serializer's `parent` attribute is its parent serializer, so the parameter cannot be
        # declared as an attribute.
        fields["parent"] = grid_code_field(
            "rows for the grids in this grid's subtree (default: `grid`)")
        return fields


class GridTileParams(QueryParams):
    """GET /tiles/grids/{z}/{x}/{y}.pbf"""

    level = level_field(default=None, help_text="grid level (default: by zoom)")
    grid = grid_code_field("only the grids in this grid's subtree")


class HotspotListParams(AppealFilterParams):
    """GET /api/v1/hotspots: the shared filter's category and grid."""

    active = serializers.BooleanField(
        required=False, default=False,
        help_text="1: only active hotspots (a report within HOTSPOT_ACTIVE_DAYS)")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        del fields["status"], fields["channel"]  # hotspots have no status or channel
        return fields
