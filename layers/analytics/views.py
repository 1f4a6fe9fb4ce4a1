"""HTTP endpoints: vector tiles, heat bins, counts, per-grid rates, hotspots — DRF views, in
/api/docs/ with their parameters (layers.analytics.params) and answers.

All need a signed-in user; appeals are limited to the grids the user may act on
(geogrid.access) intersected with ?grid=. Every error is JSON in the one shape
(geogrid.errors), tiles included; a tile itself is binary MVT with an ETag (If-None-Match gives
a 304). The map report download lives in maps.reports.views (imports flow maps → layers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.openapi import AnyObjectField, GeoJSONGeometryField, LonLatField

from . import heat, tiles
from .conf import conf
from .filters import MapFilterParams, scope_prefixes
from .hotspots import as_feature
from .models import Hotspot
from .params import CountParams, GridRateParams, GridTileParams, HeatParams, HotspotListParams
from .tilemath import valid_tile

MVT = "application/vnd.mapbox-vector-tile"
JSON = "application/json"

# --- what the endpoints answer, for the API docs ----------------------------------------------
# Errors (400 a bad parameter, `fields` naming it; 403 not signed in; 404 no such tile) are in
# the one shape, added to every operation by geogrid.openapi.
_number: dict[str, Any] = {"allow_null": True,
                           "help_text": "null when there is nothing to divide by"}
HEAT = inline_serializer("Heat", fields={
    "zoom": serializers.IntegerField(),
    "level": serializers.IntegerField(help_text="bin level (zoom + HEAT_SHIFT)"),
    "cell_m": serializers.FloatField(help_text="bin size in metres"),
    "max": serializers.IntegerField(help_text="pass as L.heatLayer's max option"),
    "total": serializers.IntegerField(),
    "bins": serializers.ListField(child=serializers.ListField(child=serializers.FloatField()),
                                 help_text="[lat, lon, count] triples for L.heatLayer"),
})
COUNT = inline_serializer("AppealCount", fields={
    "count": serializers.IntegerField(),
    "threshold": serializers.IntegerField(),
    "use_tiles": serializers.BooleanField(help_text="count > threshold: draw tiles, not points"),
})
GRID_RATES = inline_serializer("GridRates", fields={
    "level": serializers.IntegerField(),
    "grids": inline_serializer("GridRate", many=True, fields={
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "level": serializers.IntegerField(),
        "appeals": serializers.IntegerField(help_text="received"),
        "completed": serializers.IntegerField(help_text="resolved, checked or closed"),
        "closed": serializers.IntegerField(),
        "households": serializers.IntegerField(
            help_text="the base of per_100_households: active households of the people layer "
                      "per micro-grid, else the buildings' figure where it has none"),
        "households_source": serializers.ChoiceField(
            choices=["people", "buildings", "mixed", "none"],
            help_text="where `households` comes from: the people layer, the buildings, both "
                      "(some micro-grids each), or none"),
        "area_km2": serializers.FloatField(),
        "per_100_households": serializers.FloatField(**_number),
        "per_km2": serializers.FloatField(**_number),
        "completion_rate": serializers.FloatField(
            allow_null=True, help_text="completed / received (layers.appeals.rates)"),
        "on_time_rate": serializers.FloatField(
            allow_null=True, help_text="completed on time / completed with a deadline"),
    }),
})
HOTSPOTS = inline_serializer("HotspotCollection", fields={
    "type": serializers.ChoiceField(choices=["FeatureCollection"]),
    "features": inline_serializer("HotspotFeature", many=True, fields={
        "type": serializers.ChoiceField(choices=["Feature"]),
        "id": serializers.IntegerField(),
        "geometry": GeoJSONGeometryField(help_text="the hull polygon"),
        "properties": inline_serializer("HotspotProperties", fields={
            "category": serializers.CharField(allow_null=True),
            "category_name": serializers.CharField(allow_null=True),
            "categories": AnyObjectField(help_text="category code → appeals in the hotspot"),
            "count": serializers.IntegerField(),
            "centroid": LonLatField(),
            "grids": serializers.ListField(child=serializers.CharField(),
                                           help_text="codes of the micro-grids it touches"),
            "first_report": serializers.DateTimeField(),
            "last_report": serializers.DateTimeField(),
            "period": serializers.ListField(child=serializers.DateField(), min_length=2,
                                            max_length=2, help_text="[from, to]"),
            "eps_m": serializers.FloatField(),
            "min_points": serializers.IntegerField(),
            "active": serializers.BooleanField(),
        }),
    }),
})
TILE_RESPONSES = {
    (200, MVT): OpenApiResponse(OpenApiTypes.BINARY, description="a Mapbox vector tile"),
    (304, MVT): OpenApiResponse(description="not modified (If-None-Match matched the ETag)"),
    (404, JSON): OpenApiResponse(description="no such tile"),
}


class AnalyticsView(APIView):
    """Signed-in users only (403 in the one error shape otherwise)."""

    permission_classes = [IsAuthenticated]

    def permission_denied(self, request: Request, message: str | None = None,
                          code: str | None = None) -> NoReturn:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("Sign in to see appeals on the map."))
        super().permission_denied(request, message, code)


class MVTRenderer(BaseRenderer):
    media_type = MVT
    format = "pbf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        return data if isinstance(data, bytes) else b""


class AlwaysMVT(BaseContentNegotiation):
    """A tile is MVT whatever the client's Accept header says (as a map library expects)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer],
                        format_suffix: str | None = None) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))  # the view's one renderer, MVT
        return renderer, renderer.media_type


class TileView(AnalyticsView):
    """A tile is MVT bytes with an ETag; its errors are JSON in the one shape."""

    renderer_classes = [MVTRenderer]
    content_negotiation_class = AlwaysMVT

    def handle_exception(self, exc: Exception) -> Response:
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), JSON
        return super().handle_exception(exc)

    @staticmethod
    def check_address(z: int, x: int, y: int) -> None:
        if not valid_tile(z, x, y):
            raise NotFound(_("no such tile"))

    @staticmethod
    def tile_response(request: Request, data: bytes | None, etag: str) -> HttpResponse:
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


class AppealTileView(TileView):
    @extend_schema(operation_id="appeal_tile",
                   summary="Appeals as a vector tile: count bins below zoom 16, points from it",
                   parameters=[MapFilterParams], responses=TILE_RESPONSES)
    def get(self, request: Request, z: int, x: int, y: int) -> HttpResponse:
        self.check_address(z, x, y)
        filt = MapFilterParams.parse(request.query_params, user=request.user)["filter"]
        etag = tiles.appeals_tile_etag(z, x, y, filt)
        if etag and request.headers.get("If-None-Match") == f'"{etag}"':
            return self.tile_response(request, None, etag)
        tile = tiles.appeals_tile(z, x, y, filt)
        return self.tile_response(request, tile.data, tile.etag)


class GridTileView(TileView):
    @extend_schema(operation_id="grid_tile",
                   summary="Current grid boundaries of one level as a vector tile",
                   parameters=[GridTileParams], responses=TILE_RESPONSES)
    def get(self, request: Request, z: int, x: int, y: int) -> HttpResponse:
        self.check_address(z, x, y)
        params = GridTileParams.parse(request.query_params)
        grid = params["grid"]
        tile = tiles.grids_tile(z, x, y, params["level"], (grid,) if grid else None)
        return self.tile_response(request, tile.data, tile.etag)


class HeatView(AnalyticsView):
    @extend_schema(summary="Heat bins of the filtered appeals in the map's view",
                   parameters=[HeatParams], responses={200: HEAT})
    def get(self, request: Request) -> Response:
        params = HeatParams.parse(request.query_params, user=request.user)
        return Response(heat.heat_bins(params["filter"], params["bbox"], params["zoom"]))


class CountView(AnalyticsView):
    @extend_schema(summary="How many appeals match: the dashboard's points-or-tiles switch",
                   parameters=[CountParams], responses={200: COUNT})
    def get(self, request: Request) -> Response:
        params = CountParams.parse(request.query_params, user=request.user)
        bbox = params["bbox"]
        count = heat.appeal_count(params["filter"], bbox, params["zoom"] if bbox else None)
        threshold = int(conf("DASHBOARD_TILES_ABOVE"))
        return Response({"count": count, "threshold": threshold, "use_tiles": count > threshold})


class GridRateView(AnalyticsView):
    @extend_schema(summary="Per-grid counts and rates of one level, for choropleths",
                   parameters=[GridRateParams], responses={200: GRID_RATES})
    def get(self, request: Request) -> Response:
        params = GridRateParams.parse(request.query_params, user=request.user)
        level = int(params["level"])
        parent = params["parent"] or params["grid"]
        return Response({"level": level,
                         "grids": heat.grid_stats(params["filter"], level, parent)})


class HotspotListView(AnalyticsView):
    @extend_schema(summary="Stored hotspots as a GeoJSON FeatureCollection of hull polygons",
                   parameters=[HotspotListParams],
                   responses={200: HOTSPOTS})
    def get(self, request: Request) -> Response:
        params = HotspotListParams.parse(request.query_params)
        spots = Hotspot.objects.select_related("category")
        if params["active"]:
            spots = spots.filter(active=True)
        if params["category"]:
            spots = spots.filter(category_id__in=params["category"])
        prefixes = scope_prefixes(request.user, params["grid"])
        features = [as_feature(s) for s in spots]
        if prefixes is not None:
            features = [
                f for f in features
                if any(g.startswith(p) for g in f["properties"]["grids"] for p in prefixes)
            ]
        return Response({"type": "FeatureCollection", "features": features})
