"""Analytics settings with their defaults (settings.GEOGRID_ANALYTICS overrides any key)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "BIN_SHIFT": 5,
    "POINTS_MIN_ZOOM": 16,
    "POINT_MERGE_PX": 1.0,
    "CUBE_MAX_ZOOM": 15,
    "CUBE_COMBO_MAX_ZOOM": 12,
    "DAY_CUBE_MAX_ZOOM": 12,
    "SUBTREE_CODE_LEN": 9,
    "TILE_EXTENT": 4096,
    "TILE_MAX_AGE": 60,
    "TILE_CACHE": "default",
    "HEAT_SHIFT": 5,
    "HEAT_MAX_TILES": 64,
    "DASHBOARD_TILES_ABOVE": 1_000,
    "GRID_LEVEL_BY_ZOOM": {0: 1, 10: 2, 12: 3, 14: 4, 15: 5},
    "HOTSPOT_EPS_M": 50.0,
    "HOTSPOT_MIN_POINTS": 8,
    "HOTSPOT_DAYS": 90,
    "HOTSPOT_ACTIVE_DAYS": 30,
    "METRIC_SRID": None,
}


def conf(key: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "GEOGRID_ANALYTICS", {})}[key]
