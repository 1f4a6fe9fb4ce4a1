"""HTTP endpoints: vector tiles, heat bins, counts, per-grid rates, hotspots.

All need a signed-in user; appeals are limited to the grids the user may act on
(geogrid.access) intersected with ?grid=. Responses are JSON except tiles. The map report
download lives in maps.reports.views (imports flow maps → layers).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from geogrid.hierarchy import Level

from . import heat, tiles
from .conf import conf
from .filters import FilterError, parse_filter, scope_prefixes
from .hotspots import as_feature
from .models import Hotspot
from .tilemath import valid_tile

MVT = "application/vnd.mapbox-vector-tile"


def _error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def signed_in(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error(_("Sign in to see appeals on the map."), 403)
        try:
            return view(request, *args, **kwargs)
        except FilterError as exc:
            return _error(str(exc))

    return require_GET(wrapper)


def _tile_response(request: HttpRequest, data: bytes | None, etag: str) -> HttpResponse:
    quoted = f'"{etag}"'
    if data is None or request.headers.get("If-None-Match") == quoted:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=MVT)
    response["ETag"] = quoted
    # Private: what a tile shows depends on the viewer's grids.
    response["Cache-Control"] = f"private, max-age={int(conf('TILE_MAX_AGE'))}"
    response["Vary"] = "Cookie"
    return response


@signed_in
def appeals_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    if not valid_tile(z, x, y):
        return _error(_("no such tile"), 404)
    filt = parse_filter(request.GET, request.user)
    etag = tiles.appeals_tile_etag(z, x, y, filt)
    if etag and request.headers.get("If-None-Match") == f'"{etag}"':
        return _tile_response(request, None, etag)
    tile = tiles.appeals_tile(z, x, y, filt)
    return _tile_response(request, tile.data, tile.etag)


@signed_in
def grids_tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    if not valid_tile(z, x, y):
        return _error(_("no such tile"), 404)
    level = _level(request.GET.get("level"))
    grid = request.GET.get("grid", "").strip()
    if grid and not grid.isdigit():
        raise FilterError(_("grid must be a grid code (digits)"))
    tile = tiles.grids_tile(z, x, y, level, (grid,) if grid else None)
    return _tile_response(request, tile.data, tile.etag)


def _level(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) not in Level.values:
        raise FilterError(_("level must be a grid level from 1 to 5"))
    return int(value)


def _bbox(request: HttpRequest, required: bool = True) -> tuple[float, float, float, float]:
    raw = request.GET.get("bbox", "").strip()
    if not raw and not required:
        return None
    try:
        west, south, east, north = (float(v) for v in raw.split(","))
    except ValueError:
        raise FilterError(_("bbox must be west,south,east,north in degrees")) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise FilterError(_("bbox must be west,south,east,north in degrees"))
    return west, south, east, north


def _zoom(request: HttpRequest, default: int = 12) -> int:
    raw = request.GET.get("zoom", str(default)).strip()
    if not raw.isdigit() or int(raw) > 22:
        raise FilterError(_("zoom must be a whole number from 0 to 22"))
    return int(raw)


@signed_in
def heat_view(request: HttpRequest) -> JsonResponse:
    filt = parse_filter(request.GET, request.user)
    return JsonResponse(heat.heat_bins(filt, _bbox(request), _zoom(request)))


@signed_in
def count_view(request: HttpRequest) -> JsonResponse:
    """How many appeals match the dashboard's filters (in its bbox): above the threshold the
    dashboard switches from raw points to tiles."""
    filt = parse_filter(request.GET, request.user)
    bbox = _bbox(request, required=False)
    count = heat.appeal_count(filt, bbox, _zoom(request) if bbox else None)
    threshold = int(conf("DASHBOARD_TILES_ABOVE"))
    return JsonResponse({"count": count, "threshold": threshold, "use_tiles": count > threshold})


@signed_in
def grid_stats_view(request: HttpRequest) -> JsonResponse:
    filt = parse_filter(request.GET, request.user)
    level = _level(request.GET.get("level")) or Level.MICRO_GRID
    parent = request.GET.get("parent", "").strip() or request.GET.get("grid", "").strip() or None
    return JsonResponse({"level": level, "grids": heat.grid_stats(filt, level, parent)})


@signed_in
def hotspots_view(request: HttpRequest) -> JsonResponse:
    spots = Hotspot.objects.select_related("category")
    if request.GET.get("active") in ("1", "true"):
        spots = spots.filter(active=True)
    codes = [c for c in request.GET.get("category", "").split(",") if c]
    if codes:
        spots = spots.filter(category__code__in=codes)
    prefixes = scope_prefixes(request.user, request.GET.get("grid", "").strip() or None)
    features = [as_feature(s) for s in spots]
    if prefixes is not None:
        features = [
            f for f in features
            if any(g.startswith(p) for g in f["properties"]["grids"] for p in prefixes)
        ]
    return JsonResponse({"type": "FeatureCollection", "features": features})
