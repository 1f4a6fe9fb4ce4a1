"""Wish figures under /api/v1/wishes/ (definitions in layers.wishes.stats):

- `figures/?grid=&by=` — rows per grid at level `by` and their totals;
- `figures/layer/?grid=&by=` — the same as a GeoJSON FeatureCollection of the grids' current
  boundaries, for the dashboard (maps/static/maps/js/dashboard-wishes.js).

Who: wishes.counts or wishes.grid on the requested grid (grid workers, community and
subdistrict staff, dispatchers, managers) or a superuser; a grid outside answers the 404 of a
grid that does not exist, anonymous callers 403. No personal data, no access-log row. Bad
parameters → 400 in the one error shape.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.errors import NotFound
from geogrid.models import Grid
from geogrid.queryparams import GridLevelParams
from layers.wishes import stats
from layers.wishes.access import WishViewer, in_roots


class FiguresParams(GridLevelParams):
    """GET /api/v1/wishes/figures/ and figures/layer/"""


class FigureRow(serializers.Serializer):
    grid = serializers.CharField()
    name = serializers.CharField()
    submitted = serializers.IntegerField()
    open = serializers.IntegerField(help_text="on the wall")
    claimed = serializers.IntegerField(help_text="claimed, delivered or disputed")
    fulfilled = serializers.IntegerField(help_text="confirmed")
    expired = serializers.IntegerField()
    total = serializers.IntegerField()


class FiguresOut(serializers.Serializer):
    grid = serializers.CharField()
    by = serializers.IntegerField()
    rows = FigureRow(many=True)
    totals = serializers.DictField(child=serializers.IntegerField())


class FeatureOut(serializers.Serializer):
    type = serializers.CharField()
    geometry = serializers.JSONField(help_text="the grid's boundary (GeoJSON)")
    properties = FigureRow()


class LayerOut(serializers.Serializer):
    type = serializers.CharField()
    features = FeatureOut(many=True)


def _params(request: Request) -> tuple[Grid, int]:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see the wish figures"))
    p = FiguresParams.parse(request.query_params)
    grid: Grid = p["grid"]
    viewer = WishViewer(request.user)
    if not (viewer.is_super or in_roots(grid.code, viewer.counts_roots)):
        raise NotFound(_("No such grid."))
    return grid, p["by"]


class FiguresView(APIView):
    permission_classes = [AllowAny]  # _params answers anonymous callers

    @extend_schema(operation_id="wishes_figures", parameters=[FiguresParams],
                   summary="Wishes per grid: open, claimed, fulfilled …",
                   responses={200: FiguresOut})
    def get(self, request: Request) -> Response:
        grid, by = _params(request)
        rows = stats.figures(grid.code, by)
        return Response({"grid": grid.code, "by": by, "rows": [r.as_dict() for r in rows],
                         "totals": stats.totals(rows)})


class FiguresLayerView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="wishes_figures_layer", parameters=[FiguresParams],
                   summary="Wishes per grid as a GeoJSON layer of the grids",
                   responses={200: LayerOut})
    def get(self, request: Request) -> Response:
        grid, by = _params(request)
        rows = stats.figures(grid.code, by, geometry=True)
        return Response({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": r.geometry, "properties": r.as_dict()}
            for r in rows]})
