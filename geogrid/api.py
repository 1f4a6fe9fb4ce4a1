"""REST API of the grid hierarchy under /api/v1/grids/: thin views over the services.

Reads of boundaries are open (not personal data); a grid's staff list is for signed-in staff
whose posts cover the grid (GridStaffView); writes need a grid manager of the subtree (checked
by the services). Errors are raised, never built here: geogrid.errors shapes them (one
error body for every JSON endpoint). A boundary that fails validation is a 400 naming each
problem (topology problems also as GeoJSON Features in `problems`) and nothing is stored; an edit
of a version that is no longer current is a 409 whose `current.version` is the one to reload.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth.models import User
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, LineString, Point, Polygon
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.exceptions import ValidationError as BadParameter
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from geogrid.access import user_acts_on_as, user_may_act_on
from geogrid.edits import merge_grids, split_grid
from geogrid.hierarchy import code_lengths, level_for_code
from geogrid.models import Grid
from geogrid.openapi import conflict
from geogrid.periods import FIRST_YEAR, LAST_YEAR, PeriodError, check_year
from geogrid.roles import Role
from geogrid.serializers import (
    GridCollectionOut,
    GridEditedOut,
    GridEditResultOut,
    GridFeatureIn,
    GridFeatureOut,
    GridFeatureSerializer,
    GridMergeIn,
    GridSplitIn,
    GridVersionOut,
    GridVersionSerializer,
    StaffPostIn,
    StaffPostOut,
    TopologyReportOut,
)
from geogrid.staff import assign_post, current_staff, end_post
from geogrid.topology import Problem, check_grid, check_subtree
from geogrid.versions import create_checked, edit_boundary, history


class GridPagination(GeoJsonPagination):
    page_size = 100
    max_page_size = 1000

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """The page as answered (rest_framework_gis's schema still requires `results`, and its
        `features` is a FeatureCollection instead of the array of Features)."""
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "description": "a page of grids as a GeoJSON FeatureCollection",
            "required": ["type", "count", "next", "previous", "features"],
            "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                           "count": {"type": "integer"}, "next": link, "previous": link,
                           "features": schema},
        }


# --- the parameters and answers, for the API docs (errors: geogrid.openapi) -------------------
AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATETIME,
    description="the versions valid at this moment: a date (the start of that day, local time) "
                "or a date-time, ISO 8601; default: the current versions")
PAGE = [OpenApiParameter("page", int, description="page number, from 1"),
        OpenApiParameter("page_size", int, description="grids per page (default 100, at most "
                                                       "1000)")]
STALE = conflict("the version you edited is no longer the current one: `current.version` is "
                 "the one to reload")


def parse_as_of(value: str | None) -> dt.datetime | None:
    """A date means the start of that day in the deployment's time zone; a datetime is exact.
    The moment goes to PostgreSQL in local time: it refuses offsets beyond ±15:59, which Python
    parses (2026-01-01T00:00-16:08); years outside geogrid.periods' range are refused."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadParameter(
            {"as_of": [_("as_of must be a date or date-time (ISO 8601), not %(value)r")
                       % {"value": value}]}
        ) from exc
    moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    try:
        moment = timezone.localtime(moment)
        check_year(moment.year)
    except (OverflowError, PeriodError) as exc:
        raise BadParameter({"as_of": [_("years from %(first)d to %(last)d") % {
            "first": FIRST_YEAR, "last": LAST_YEAR}]}) from exc
    return moment


def versions_at(request: Request) -> QuerySet:
    moment = parse_as_of(request.query_params.get("as_of"))
    grids = Grid.objects.select_related("parent", "changed_by")
    return grids.as_of(moment) if moment else grids.current()


def acting_user(request: Request) -> User:
    """The signed-in user making a write. The write views' permission (IsAuthenticatedOrReadOnly)
    already answers an anonymous write with a 403 `not_authenticated` before the view runs; this
    gives the same answer should a view run without it, and gives the services a `User`."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user


def read_feature(data) -> tuple[GEOSGeometry, dict]:
    """The geometry (EPSG:4326) and properties of a GeoJSON Feature in a request body."""
    if not isinstance(data, dict) or data.get("type") != "Feature":
        raise ValidationError(_("send a GeoJSON Feature with a Polygon or MultiPolygon geometry"))
    geometry = data.get("geometry")
    if not isinstance(geometry, dict):
        raise ValidationError(_("the Feature has no geometry"))
    try:
        geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ValidationError(
            _("cannot read the GeoJSON geometry (%(reason)s); rings must be closed")
            % {"reason": str(exc).strip() or type(exc).__name__}
        ) from exc
    geom.srid = 4326  # RFC 7946: GeoJSON is always WGS 84 longitude/latitude
    properties = data.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValidationError(_("the Feature's properties must be an object"))
    return geom, properties


class GridListView(ListAPIView):
    """GET: grids as a FeatureCollection; filters level, parent, code_prefix, bbox, as_of.
    POST: a new grid from a GeoJSON Feature (properties code, name; level, parent optional)."""

    permission_classes = [IsAuthenticatedOrReadOnly]  # writes: a signed-in user
    serializer_class = GridFeatureSerializer
    pagination_class = GridPagination

    @extend_schema(
        summary="Grids as a GeoJSON FeatureCollection, a page at a time",
        parameters=[
            OpenApiParameter("level", int, enum=[1, 2, 3, 4, 5], description="grid level"),
            OpenApiParameter("parent", str, description="the parent's code: its children"),
            OpenApiParameter("code_prefix", str, description="codes starting with this"),
            OpenApiParameter("bbox", str, description="west,south,east,north in degrees: grids "
                                                      "whose bounding box overlaps it"),
            AS_OF, *PAGE],
        responses={200: GridFeatureOut})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        params = self.request.query_params
        grids = versions_at(self.request)
        if params.get("level"):
            try:
                grids = grids.filter(level=int(params["level"]))
            except ValueError as exc:
                raise BadParameter({"level": [_("level must be a number from 1 to 5")]}) from exc
        if params.get("parent"):
            grids = grids.filter(parent__code=params["parent"])
        if params.get("code_prefix"):
            grids = grids.filter(code__startswith=params["code_prefix"])
        if params.get("bbox"):
            try:
                west, south, east, north = (float(v) for v in params["bbox"].split(","))
            except ValueError as exc:
                raise BadParameter(
                    {"bbox": [_("bbox must be west,south,east,north in degrees")]}
                ) from exc
            area = Polygon.from_bbox((west, south, east, north))
            area.srid = 4326
            grids = grids.filter(boundary__bboverlaps=area)
        return grids.order_by("code")

    @extend_schema(summary="A new grid (grid managers of the parent's subtree)",
                   request=GridFeatureIn, responses={201: GridEditedOut})
    def post(self, request: Request) -> Response:
        geom, props = read_feature(request.data)
        code = str(props.get("code") or "")
        lengths = code_lengths()
        try:
            level = int(props.get("level") or level_for_code(code) or 0)
        except (TypeError, ValueError):
            level = -1
        if level not in (0, *lengths):
            raise ValidationError({"level": [_("level must be a number from 1 to 5")]})
        if not code or not level:
            raise ValidationError(
                {"code": [_("properties.code must be a grid code of a known length")]}
            )
        parent_code = str(props.get("parent") or "") or (
            code[: lengths[level - 1]] if level > 1 else None
        )
        parent = None
        if parent_code:
            parent = Grid.objects.current().filter(code=parent_code).first()
            if parent is None:
                message = _("the parent grid %(code)s does not exist") % {"code": parent_code}
                raise ValidationError({"parent": [message]})
        result = create_checked(
            level=level,
            code=code,
            name=str(props.get("name") or ""),
            boundary=geom,
            parent=parent,
            actor=acting_user(request),
        )
        return Response(
            self._with_warnings(result.grid, result.warnings), status=status.HTTP_201_CREATED
        )

    @staticmethod
    def _with_warnings(grid: Grid, warnings: list[Problem]) -> dict:
        data = GridFeatureSerializer(grid).data
        data["warnings"] = [p.message for p in warnings]
        return data


class GridDetailView(APIView):
    """GET: one grid by code (?as_of). PUT/PATCH: a new boundary (and name) from a GeoJSON
    Feature whose properties.version is the version the client edited."""

    permission_classes = [IsAuthenticatedOrReadOnly]  # writes: a signed-in user

    @extend_schema(summary="One grid by code", parameters=[AS_OF],
                   responses={200: GridFeatureOut})
    def get(self, request: Request, code: str) -> Response:
        grid = get_object_or_404(versions_at(request), code=code)
        return Response(GridFeatureSerializer(grid).data)

    @extend_schema(summary="A new boundary (and name): a new version, checked and re-assigned",
                   request=GridFeatureIn, responses={200: GridEditedOut, **STALE})
    def put(self, request: Request, code: str) -> Response:
        get_object_or_404(Grid.objects.current(), code=code)
        geom, props = read_feature(request.data)
        try:
            version = int(props["version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(
                {"version": [_("properties.version must be the version you edited")]}
            ) from exc
        name = props.get("name")
        result = edit_boundary(
            code,
            geom,
            version=version,
            actor=acting_user(request),
            name=str(name) if name else None,
        )
        return Response(GridListView._with_warnings(result.grid, result.warnings))

    @extend_schema(summary="A new boundary (and name), as PUT", request=GridFeatureIn,
                   responses={200: GridEditedOut, **STALE})
    def patch(self, request: Request, code: str) -> Response:
        return self.put(request, code)


class GridChildrenView(ListAPIView):
    serializer_class = GridFeatureSerializer
    pagination_class = GridPagination

    @extend_schema(summary="The grid's children, a page at a time", parameters=[AS_OF, *PAGE],
                   responses={200: GridFeatureOut})
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet:
        versions = versions_at(self.request)
        parent = get_object_or_404(versions, code=self.kwargs["code"])
        return versions.filter(parent__code=parent.code).order_by("code")


class GridAncestorsView(APIView):
    """The district down to the grid's parent, as a FeatureCollection."""

    @extend_schema(parameters=[AS_OF], responses={200: GridCollectionOut})
    def get(self, request: Request, code: str) -> Response:
        versions = versions_at(request)
        grid = get_object_or_404(versions, code=code)
        lengths = code_lengths()
        prefixes = [code[: lengths[level]] for level in range(1, grid.level)]
        ancestors = versions.filter(code__in=prefixes).order_by("level")
        return Response(GridFeatureSerializer(ancestors, many=True).data)


class GridTopologyView(APIView):
    """The topology report of a subtree (or ?scope=grid: one grid's family) as GeoJSON."""

    @extend_schema(parameters=[OpenApiParameter(
        "scope", str, enum=["subtree", "grid"], default="subtree",
        description="subtree: the grid and everything below it; grid: the grid with its "
                    "parent and siblings")], responses={200: TopologyReportOut})
    def get(self, request: Request, code: str) -> Response:
        get_object_or_404(Grid.objects.current(), code=code)
        scope = request.query_params.get("scope", "subtree")
        if scope not in ("subtree", "grid"):
            raise BadParameter({"scope": [_("scope must be subtree or grid")]})
        report = check_grid(code) if scope == "grid" else check_subtree(code)
        return Response(report.as_geojson())


class GridHistoryView(APIView):
    """Every version of a grid with its validity and who made it, oldest first."""

    @extend_schema(responses={200: GridVersionOut(many=True)})
    def get(self, request: Request, code: str) -> Response:
        versions = history(code)
        if not versions.exists():
            raise NotFound
        return Response(GridVersionSerializer(versions, many=True).data)


class GridsAtView(APIView):
    """Which grids covered a point (?lon, ?lat) at ?as_of (default: now), deepest first."""

    @extend_schema(parameters=[
        OpenApiParameter("lon", float, required=True, description="longitude, WGS 84"),
        OpenApiParameter("lat", float, required=True, description="latitude, WGS 84"),
        AS_OF], responses={200: GridCollectionOut})
    def get(self, request: Request) -> Response:
        try:
            lon = float(request.query_params["lon"])
            lat = float(request.query_params["lat"])
        except (KeyError, ValueError) as exc:
            raise BadParameter(
                {name: [_("lon and lat are required, in degrees (WGS 84)")]
                 for name in ("lon", "lat")}
            ) from exc
        outside = [n for n, v, limit in (("lon", lon, 180), ("lat", lat, 90))
                   if not -limit <= v <= limit]
        if outside:
            raise BadParameter(
                {n: [_("lon must be within −180…180 and lat within −90…90")] for n in outside}
            )
        point = Point(lon, lat, srid=4326)
        grids = versions_at(request).filter(boundary__covers=point).order_by("-level", "code")
        return Response(GridFeatureSerializer(grids, many=True).data)


class GridSplitView(APIView):
    """POST {version, line: GeoJSON LineString, new_code, new_name}: cut a grid in two."""

    permission_classes = [IsAuthenticatedOrReadOnly]  # writes: a signed-in user

    @extend_schema(request=GridSplitIn, responses={200: GridEditResultOut, **STALE})
    def post(self, request: Request, code: str) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        result = split_grid(
            code,
            _read_line(data.get("line")),
            version=_int(data, "version"),
            new_code=str(data.get("new_code") or ""),
            new_name=str(data.get("new_name") or ""),
            actor=acting_user(request),
        )
        return Response(_edit_body(result))


class GridMergeView(APIView):
    """POST {version, other, other_version}: merge sibling `other` into this grid."""

    permission_classes = [IsAuthenticatedOrReadOnly]  # writes: a signed-in user

    @extend_schema(request=GridMergeIn, responses={200: GridEditResultOut, **STALE})
    def post(self, request: Request, code: str) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        result = merge_grids(
            code,
            str(data.get("other") or ""),
            version=_int(data, "version"),
            other_version=_int(data, "other_version"),
            actor=acting_user(request),
        )
        return Response(_edit_body(result))


def _int(data: dict, name: str) -> int:
    try:
        return int(data[name])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError({name: [_("a version number is required")]}) from exc


def _read_line(value) -> LineString:
    try:
        geom = GEOSGeometry(json.dumps(value), srid=4326)
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        raise ValidationError({"line": [_("send the cut as a GeoJSON LineString")]}) from exc
    if not isinstance(geom, LineString):
        raise ValidationError({"line": [_("send the cut as a GeoJSON LineString")]})
    return geom


def _edit_body(result) -> dict:
    return {
        "grid": GridFeatureSerializer(result.grid).data,
        "changed": [c.code for c in result.changes],
        "warnings": [p.message for p in result.warnings],
    }


class GridStaffView(APIView):
    """GET: the grid's current posts, to signed-in users whose posts cover the grid (403
    otherwise): post and display name for all of them; the duty phone also to dispatchers and
    grid managers of the subtree; the login name and the post's id (to end it) only to grid
    managers of the subtree. Superusers see everything.
    POST {username, post, phone}: add a post. DELETE ?id=: end a post today (grid managers
    of the subtree)."""

    permission_classes = [IsAuthenticatedOrReadOnly]  # writes: a signed-in user

    @extend_schema(responses={200: StaffPostOut(many=True)})
    def get(self, request: Request, code: str) -> Response:
        user = acting_user(request)
        grid = get_object_or_404(Grid.objects.current(), code=code)
        if not user_may_act_on(user, grid):
            raise PermissionDenied(_("this grid is outside your grids"))
        phones = user_acts_on_as(user, grid, Role.DISPATCHER, Role.GRID_MANAGER)
        accounts = user_acts_on_as(user, grid, Role.GRID_MANAGER)
        return Response([_post(s, phone=phones, account=accounts) for s in current_staff(grid)])

    @extend_schema(request=StaffPostIn, responses={201: StaffPostOut})
    def post(self, request: Request, code: str) -> Response:
        grid = get_object_or_404(Grid.objects.current(), code=code)
        data = request.data if isinstance(request.data, dict) else {}
        post = assign_post(
            acting_user(request),
            grid,
            str(data.get("username") or ""),
            str(data.get("post") or ""),
            str(data.get("phone") or ""),
        )
        return Response(_post(post), status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("id", int, required=True,
                                                description="the post to end")],
                   responses={204: OpenApiResponse(description="the post ends today")})
    def delete(self, request: Request, code: str) -> Response:
        grid = get_object_or_404(Grid.objects.current(), code=code)
        post_id = request.query_params.get("id", "")
        if not (post_id.isascii() and post_id.isdigit() and len(post_id) <= 18):
            raise ValidationError({"id": [_("send ?id= with the number of the post to end")]})
        post = get_object_or_404(current_staff(grid), pk=int(post_id))
        end_post(acting_user(request), post)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _post(s, *, phone: bool = True, account: bool = True) -> dict:
    """A post as the staff list shows it; `phone` adds the duty phone, `account` the login name
    and the post's id (without it the name never falls back to the login name)."""
    out = {
        "name": s.user.get_full_name() or (s.user.username if account else ""),
        "post": s.post,
        "post_label": s.get_post_display(),
        "since": s.since.isoformat(),
    }
    if account:
        out.update(id=s.pk, username=s.user.username)
    if phone:
        out["phone"] = s.phone
    return out
