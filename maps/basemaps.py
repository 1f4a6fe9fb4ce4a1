"""Base map choices for the map screens, from settings; passed to the page as JSON.

Tianditu (天地图) is CGCS2000/WGS 84 and needs a key; Gaode/AMap tiles are GCJ-02, so the page
draws our WGS 84 geometries through a GCJ-02 projection (maps/static/maps/js/geogrid-map.js).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

TIANDITU = (
    "https://t{s}.tianditu.gov.cn/%(layer)s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER=%(layer)s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=%(key)s"
)


GAODE = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)


def basemaps() -> list[dict]:
    """Every base map this deployment offers, the configured default first."""
    conf = settings.GEOGRID
    osm_url = conf["OSM_TILE_URL"]
    maps = [
        {
            "id": "osm",
            "name": _("OpenStreetMap"),
            "crs": "wgs84",
            "layers": [{"url": osm_url, "attribution": "&copy; OpenStreetMap", "maxZoom": 19}],
        },
        {
            "id": "gaode",
            "name": _("Gaode (GCJ-02)"),
            "crs": "gcj02",
            "layers": [
                {
                    "url": conf.get("GAODE_TILE_URL", GAODE),
                    "subdomains": "1234",
                    "attribution": "&copy; 高德地图",
                    "maxZoom": 18,
                }
            ],
        },
        {"id": "none", "name": _("No base map"), "crs": "wgs84", "layers": []},
    ]
    key = conf.get("TIANDITU_KEY")
    if key:
        for layer, label, notes in (
            ("vec", _("Tianditu map"), "cva"),
            ("img", _("Tianditu imagery"), "cia"),
        ):
            maps.insert(
                1,
                {
                    "id": f"tianditu_{layer}",
                    "name": label,
                    "crs": "wgs84",
                    "layers": [
                        {
                            "url": TIANDITU % {"layer": part, "key": key},
                            "subdomains": "01234567",
                            "attribution": "&copy; 天地图",
                            "maxZoom": 18,
                        }
                        for part in (layer, notes)
                    ],
                },
            )
    default = conf.get("BASEMAP", "osm")
    maps.sort(key=lambda m: m["id"] != default)
    return maps


def map_config() -> dict:
    lat, lon = settings.GEOGRID["MAP_CENTER"]
    return {"basemaps": basemaps(), "center": [lat, lon], "zoom": settings.GEOGRID["MAP_ZOOM"]}
