"""The appeals API under /api/v1/: thin views that parse, call one service, shape the answer.

Errors are raised, never built here: geogrid.errors turns them into the one error shape.
Actions come from the registry (layers.appeals.transitions.APPEAL_ACTIONS), one endpoint
each (layers.appeals.urls)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.access import assigned_codes, user_may_act_on
from geogrid.actions import ActionView
from geogrid.coords import CoordinateError
from geogrid.errors import RateLimited
from geogrid.locate import locate_point
from geogrid.models import Grid
from geogrid.periods import PeriodError, parse_moment
from geogrid.ratelimit import client_address, over_limit
from layers.appeals import notifications
from layers.appeals.actors import Actor, as_reporter, is_staff_on, sees_contact
from layers.appeals.filters import AppealListParams, list_filter, page_params
from layers.appeals.intake import AppealInput, submit_appeal, token_matches
from layers.appeals.models import Appeal
from layers.appeals.serializers import (
    AppealInSerializer,
    LocateInSerializer,
    NotificationReadSerializer,
    appeal_out,
    feature_out,
)
from layers.appeals.stats import BY_CHOICES, StatsQuery, grid_stats
from layers.appeals.transitions import APPEAL_ACTIONS

ERRORS = {400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT,
          409: OpenApiTypes.OBJECT, 429: OpenApiTypes.OBJECT}


def actor_for(request: Request, appeal: Appeal | None = None) -> Actor:
    """The request's user, whether it holds the appeal's token, and an anonymous client key."""
    token = request.headers.get("X-Appeal-Token") or request.query_params.get("token")
    key = ""
    if not request.user.is_authenticated:
        raw = f"{client_address(request)}|{settings.SECRET_KEY}".encode()
        key = hashlib.sha256(raw).hexdigest()
    return Actor(user=request.user,
                 token_ok=appeal is not None and token_matches(appeal, token), client_key=key)


def _limit(kind: str, request: Request, message: str) -> None:
    """Anonymous clients are rate-limited per address (geogrid.ratelimit)."""
    if request.user.is_authenticated:
        return
    window = over_limit(kind, client_address(request))
    if window:
        raise RateLimited(message, retry_after=window)


def _load(tracking: str) -> Appeal:
    appeal = (
        Appeal.objects.select_related("category", "grid", "assigned_grid", "department",
                                      "merged_into")
        .prefetch_related("photos", "events__photos", "events__actor")
        .filter(tracking=tracking[:32])
        .first()
    )
    if appeal is None:
        raise Http404
    return appeal


def detail_for(request: Request, tracking: str, actor: Actor | None = None) -> dict:
    """The detail as this viewer sees it; Http404 when they may not see it at all."""
    appeal = _load(tracking)
    actor = actor or actor_for(request, appeal)
    full = sees_contact(request.user, appeal)
    staff = full or is_staff_on(actor, appeal)
    if not (staff or as_reporter(actor, appeal)):
        raise Http404  # no hint whether the number exists
    return appeal_out(appeal, full=full, names=staff,
                      actions=APPEAL_ACTIONS.available(appeal.status, actor, appeal))


class AppealListView(APIView):
    """POST /api/v1/appeals/ — JSON or multipart (photos).
    GET /api/v1/appeals/ — the staff's appeals as a paginated GeoJSON FeatureCollection."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Appeals in the user's grids, as a GeoJSON FeatureCollection",
        parameters=[AppealListParams],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("log in to list appeals"))
        now = timezone.now()
        rows = Appeal.objects.visible_to(Actor(user=request.user)).filter(
            list_filter(request.query_params, now))
        page, size = page_params(request.query_params)
        count = rows.count()
        items = (rows.select_related("category", "grid", "assigned_grid", "department")
                 .order_by("-reported_at", "-id")[(page - 1) * size: page * size])
        return Response({
            "type": "FeatureCollection",
            "count": count,
            "page": page,
            "page_size": size,
            "next": _page_url(request, page + 1) if page * size < count else None,
            "previous": _page_url(request, page - 1) if page > 1 else None,
            "features": [feature_out(a, now) for a in items],
        })

    @extend_schema(request=AppealInSerializer, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        _limit("appeal", request, _("too many submissions from this address; try again later"))
        # Refuse oversized bodies before reading the photos into memory or temp files.
        limit = settings.GEOGRID["APPEAL_PHOTO_MAX_BYTES"] * settings.GEOGRID["APPEAL_MAX_PHOTOS"]
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > limit + 2**20:
            raise DRFValidationError(
                {"photos": [_("the request is larger than the photo limits allow")]})
        serializer = AppealInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = submit_appeal(AppealInput(**serializer.validated_data,
                                           client=client_address(request)), actor=request.user)
        appeal = result.appeal
        return Response(
            {
                "tracking": appeal.tracking,
                "token": result.token,
                "status": appeal.status,
                "url": f"/api/v1/appeals/{appeal.tracking}/",
                "assignment": result.assignment.as_dict(),
                "possible_duplicates": result.duplicates,
                "repeat_problem": _repeat(result.repeat_of),
            },
            status=status.HTTP_201_CREATED,
        )


def _repeat(spot: Any) -> dict | None:
    """The active hotspot a new appeal repeats: the same problem reported again nearby."""
    if spot is None:
        return None
    return {
        "hotspot": spot.pk,
        "count": spot.count,
        "first_report": spot.first_report.isoformat(),
        "last_report": spot.last_report.isoformat(),
    }


def _page_url(request: Request, page: int) -> str:
    query = request.query_params.copy()
    query["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class AppealDetailView(APIView):
    """GET /api/v1/appeals/{tracking}/ — reporter with the token, or staff in scope."""

    permission_classes = [AllowAny]

    @extend_schema(summary="One appeal: state, deadline, assignee, your actions, timeline",
                   responses={200: OpenApiTypes.OBJECT, 404: OpenApiTypes.OBJECT})
    def get(self, request: Request, tracking: str) -> Response:
        return Response(detail_for(request, tracking))


class AppealActionView(ActionView):
    """POST /api/v1/appeals/{tracking}/actions/{action}/ — one workflow action. JSON
    {version, note, …the action's fields}; multipart for resolve with after-photos."""

    permission_classes = [AllowAny]

    def load(self, request: Request, **kwargs: Any) -> Appeal:
        appeal = (Appeal.objects.filter(tracking=str(kwargs["tracking"])[:32])
                  .only("id", "tracking", "token_hash").first())
        if appeal is None:
            raise Http404
        return appeal

    def actor(self, request: Request, ref: Appeal) -> Actor:
        actor = actor_for(request, ref)
        if not (actor.active or actor.token_ok or self.action_name == "support"):
            raise Http404  # anonymous without the token: no hint that the number exists
        if self.action_name == "support":
            _limit("support", request, _("too many requests; try again later"))
        return actor

    def respond(self, request: Request, ref: Appeal, actor: Actor, result: Any) -> Response:
        if self.action_name == "support" and not (actor.token_ok or is_staff_on(actor, result)):
            # A supporter is not the reporter: the count, not the report.
            return Response({"tracking": result.tracking, "supporters": result.supporters,
                             "supported": True})
        return Response(detail_for(request, ref.tracking, actor))

    @classmethod
    def response_schema(cls) -> Any:
        return {200: OpenApiTypes.OBJECT, **ERRORS}


class StatsView(APIView):
    """GET /api/v1/stats/?grid=CODE&since=&until=&by=category|channel"""

    @extend_schema(
        summary="Closed-loop statistics of a grid's subtree",
        parameters=[OpenApiParameter("grid", str, description="default: your own grid"),
                    OpenApiParameter("since", str), OpenApiParameter("until", str),
                    OpenApiParameter("by", str, enum=list(BY_CHOICES))],
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        code = request.query_params.get("grid", "")[:32]
        if not code and request.user.is_authenticated:
            # Without a grid: the user's own (first) subtree, e.g. a dispatcher's district.
            roots = assigned_codes(request.user)
            code = roots[0] if roots else ""
            if not code and request.user.is_superuser:
                code = Grid.objects.current().filter(level=1).values_list(
                    "code", flat=True).order_by("code").first() or ""
        if not code:
            raise DRFValidationError({"grid": [_("this parameter is required")]})
        grid = Grid.objects.current().filter(code=code).first()
        if grid is None:
            raise DRFValidationError({"grid": [_("no current grid has the code %(code)r") % {
                "code": code}]})
        if not request.user.is_authenticated or not user_may_act_on(request.user, grid):
            raise PermissionDenied(_("this grid is outside your grids"))
        by = request.query_params.get("by") or None
        if by not in (None, *BY_CHOICES):
            raise DRFValidationError({"by": [_("one of: %(v)s") % {"v": ", ".join(BY_CHOICES)}]})
        since = _moment(request, "since")
        until = _moment(request, "until", end=True)
        result = grid_stats(StatsQuery(grid_code=code, since=since, until=until, by=by))
        return Response({
            "grid": {"code": grid.code, "name": grid.name, "level": grid.level},
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            **result,
        })


def _moment(request: Request, name: str, *, end: bool = False) -> Any:
    try:
        return parse_moment(request.query_params.get(name), end=end)
    except PeriodError as exc:
        raise DRFValidationError({name: [str(exc)]}) from None


class NotificationListView(APIView):
    """GET /api/v1/notifications/?unread=1&page=&page_size= — the logged-in user's."""

    @extend_schema(parameters=[OpenApiParameter("unread", str), OpenApiParameter("page", int),
                               OpenApiParameter("page_size", int)],
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("log in to read notifications"))
        rows = notifications.for_user(request.user)
        unread = rows.filter(read_at__isnull=True).count()
        if request.query_params.get("unread") in ("1", "true"):
            rows = rows.filter(read_at__isnull=True)
        page, size = page_params(request.query_params)
        count = rows.count()
        return Response({
            "count": count,
            "unread": unread,
            "page": page,
            "results": [
                {"id": n.id, "kind": n.kind, "message": notifications.render(n),
                 "appeal": n.appeal.tracking if n.appeal_id else None,
                 "created_at": n.created_at.isoformat(),
                 "read_at": n.read_at.isoformat() if n.read_at else None}
                for n in rows[(page - 1) * size: page * size]
            ],
        })


class NotificationReadView(APIView):
    """POST /api/v1/notifications/read/ {ids: [..]} or {all: true} — mark as read."""

    @extend_schema(request=NotificationReadSerializer,
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def post(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise NotAuthenticated(_("log in to read notifications"))
        body = NotificationReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = None if body.validated_data.get("all") else body.validated_data["ids"]
        return Response({"marked": notifications.mark_read(request.user, ids)})


class LocateView(APIView):
    """GET /api/v1/locate?lon=&lat=&crs= — the grid, its path and staff, before submitting."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[LocateInSerializer],
                   responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request) -> Response:
        params = LocateInSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            located = locate_point(data["lon"], data["lat"], data.get("crs"))
        except CoordinateError as exc:
            raise DRFValidationError({exc.field: [str(exc)]}) from None
        body = {"lon": round(located.lon, 7), "lat": round(located.lat, 7),
                **located.assignment.as_dict()}
        if located.swapped_suspect:
            body["warning"] = _("outside every grid, but inside one with lat and lon swapped")
        return Response(body)
