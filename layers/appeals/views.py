"""The appeals API under /api/v1/: thin views that parse, call one service, shape the answer.

Errors are raised, never built here: geogrid.errors turns them into the one error shape.
Actions come from the registry (layers.appeals.transitions.APPEAL_ACTIONS), one endpoint
each (layers.appeals.urls).

`{tracking}` in a path is the tracking number or the public id (docs/appeals.md, "Tracking
numbers and public ids"). The tracking number is sequential, so it opens nothing by itself:
whoever may not read the appeal (the reporter with the token or account, staff in scope) gets
the same 404 as for a number that does not exist. The public id is unguessable: it shows the
share card (`public_out`) and takes anonymous support, whose every refusal is one answer."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
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
from geogrid.errors import Conflict, NotFound
from geogrid.locate import locate_point
from geogrid.models import Grid
from geogrid.openapi import conflict, rate_limited
from geogrid.periods import PeriodError, parse_moment
from geogrid.ratelimit import client_address, enforce
from layers.appeals import notifications
from layers.appeals.actors import Actor, as_reporter, is_staff_on, may_read, sees_contact
from layers.appeals.filters import AppealListParams, list_filter, page_params
from layers.appeals.intake import AppealInput, submit_appeal, token_matches
from layers.appeals.models import Appeal, public_id_of
from layers.appeals.serializers import (
    AppealCardOut,
    AppealCreatedOut,
    AppealInSerializer,
    AppealOut,
    AppealPageOut,
    LocateInSerializer,
    LocateOut,
    MarkedOut,
    NotificationPageOut,
    NotificationReadSerializer,
    StatsOut,
    SupportedOut,
    appeal_out,
    feature_out,
    public_out,
    share_url,
)
from layers.appeals.stats import BY_CHOICES, StatsQuery, grid_stats
from layers.appeals.transitions import APPEAL_ACTIONS

# Errors: 400, 403 and (with a path parameter or pages) 404 are on every operation
# (geogrid.openapi); views add the ones particular to them.
APPEAL_OR_CARD = PolymorphicProxySerializer(
    component_name="AppealOrCard", serializers=[AppealOut, AppealCardOut],
    resource_type_field_name=None)


def actor_for(request: Request, appeal: Appeal | None = None) -> Actor:
    """The request's user, whether it holds the appeal's token, and an anonymous client key."""
    token = request.headers.get("X-Appeal-Token") or request.query_params.get("token")
    key = ""
    if not request.user.is_authenticated:
        raw = f"{client_address(request)}|{settings.SECRET_KEY}".encode()
        key = hashlib.sha256(raw).hexdigest()
    return Actor(user=request.user,
                 token_ok=appeal is not None and token_matches(appeal, token), client_key=key)


def _limit(scope: str, request: Request, message: str) -> None:
    """Anonymous clients are rate-limited per address, in a store every worker shares
    (geogrid.ratelimit: 429 with Retry-After when over)."""
    if request.user.is_authenticated:
        return
    enforce(scope, client_address(request), message)


def _load(ref: str) -> Appeal:
    appeal = (
        Appeal.objects.by_ref(ref)
        .select_related("category", "grid", "assigned_grid", "department", "merged_into")
        .prefetch_related("photos", "events__photos", "events__actor")
        .first()
    )
    if appeal is None:
        raise Http404
    return appeal


def detail_for(request: Request, ref: str, actor: Actor | None = None) -> dict:
    """The detail as this viewer sees it: in full to the reporter and staff in scope, the
    share card to others who came by the public id; Http404 to everyone else."""
    appeal = _load(ref)
    actor = actor or actor_for(request, appeal)
    full = sees_contact(request.user, appeal)
    staff = full or is_staff_on(actor, appeal)
    if not (staff or as_reporter(actor, appeal)):
        if public_id_of(ref) is not None:
            return public_out(appeal)
        raise Http404  # no hint whether the number exists
    return appeal_out(appeal, full=full, names=staff,
                      actions=APPEAL_ACTIONS.available(appeal.status, actor, appeal))


def support_refused() -> NotFound:
    """The one answer to every refused support by someone who may not read the appeal: a
    number or id that does not exist, a tracking number instead of the public id, a closed
    appeal, a second support, a staff member — never the appeal's state or version."""
    return NotFound(_("This report cannot be supported: the link is wrong, the report is no "
                      "longer open, or it has your support already."))


def duplicates_for(request: Request, duplicates: list[dict]) -> list[dict]:
    """Open appeals near a new one: their public ids (to support one instead of filing the
    same problem again); tracking number and state only to those who may read them."""
    readable: set[str] = set()
    if request.user.is_authenticated and duplicates:
        viewer = Actor(user=request.user)
        rows = Appeal.objects.select_related("grid", "assigned_grid").filter(
            tracking__in=[d["tracking"] for d in duplicates])
        readable = {a.tracking for a in rows if may_read(viewer, a)}
    return [
        d if d["tracking"] in readable else
        {"public_id": d["public_id"], "distance_m": d["distance_m"],
         "reported_at": d["reported_at"]}
        for d in duplicates
    ]


class AppealListView(APIView):
    """POST /api/v1/appeals/ — JSON or multipart (photos).
    GET /api/v1/appeals/ — the staff's appeals as a paginated GeoJSON FeatureCollection."""

    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="api_v1_appeals_list",
        summary="Appeals in the user's grids, as a GeoJSON FeatureCollection",
        parameters=[AppealListParams],
        responses={200: AppealPageOut},
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

    @extend_schema(request=AppealInSerializer, responses={
        201: AppealCreatedOut,
        **rate_limited("too many anonymous submissions from this address")})
    def post(self, request: Request) -> Response:
        _limit("intake", request, _("too many submissions from this address; try again later"))
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
                "public_id": str(appeal.public_id),
                "share_url": share_url(appeal),
                "status": appeal.status,
                "url": f"/api/v1/appeals/{appeal.tracking}/",
                "assignment": result.assignment.as_dict(),
                "possible_duplicates": duplicates_for(request, result.duplicates),
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
    """GET /api/v1/appeals/{tracking}/ — reporter with the token, or staff in scope; by the
    public id, anyone else gets the share card."""

    permission_classes = [AllowAny]

    @extend_schema(summary="One appeal: state, deadline, assignee, your actions, timeline",
                   responses={200: APPEAL_OR_CARD})
    def get(self, request: Request, tracking: str) -> Response:
        return Response(detail_for(request, tracking))


class AppealActionView(ActionView):
    """POST /api/v1/appeals/{tracking}/actions/{action}/ — one workflow action. JSON
    {version, note, …the action's fields}; multipart for resolve with after-photos.

    Who may not read the appeal gets a 404 before anything else is looked at (the body
    included), unless they hold a post or a department (staff: the service's 403). Support
    goes by the public id; every refusal of it to a non-reader is `support_refused()`."""

    permission_classes = [AllowAny]
    reader = False  # may the caller read the appeal (set per request by `actor`)
    by_public_id = False

    def post(self, request: Request, **kwargs: Any) -> Response:
        if self.action_name != "support":
            return super().post(request, **kwargs)
        try:
            return super().post(request, **kwargs)
        except (Http404, PermissionDenied, Conflict, DjangoValidationError,
                DRFValidationError):
            if self.reader:
                raise  # staff and the reporter know the appeal: the reason as it is
            raise support_refused() from None

    def load(self, request: Request, **kwargs: Any) -> Appeal:
        ref = str(kwargs["tracking"])
        appeal = (Appeal.objects.by_ref(ref).select_related("grid", "assigned_grid")
                  .only("id", "tracking", "public_id", "token_hash", "reporter_id",
                        "district_code", "department_id", "grid__code", "assigned_grid__code")
                  .first())
        if appeal is None:
            raise Http404
        self.by_public_id = public_id_of(ref) is not None
        return appeal

    def actor(self, request: Request, ref: Appeal) -> Actor:
        actor = actor_for(request, ref)
        if not (actor.active or actor.token_ok or self.action_name == "support"):
            raise Http404  # anonymous without the token: no hint that the number exists
        self.reader = may_read(actor, ref)
        if not self.reader:
            if self.action_name == "support" and not self.by_public_id:
                raise support_refused()  # a sequential number opens nothing
            if self.action_name != "support" and not (actor.posts or actor.department_ids):
                raise Http404  # residents learn nothing from a number, not even that it exists
        if self.action_name == "support":
            _limit("support", request, _("too many requests; try again later"))
        elif self.action_name == "rate":  # feedback by an anonymous token holder
            _limit("feedback", request, _("too many requests; try again later"))
        return actor

    def respond(self, request: Request, ref: Appeal, actor: Actor, result: Any) -> Response:
        if self.action_name == "support" and not self.reader:
            # A supporter is neither the reporter nor staff: the count, not the report (and
            # not its tracking number).
            return Response({"public_id": str(result.public_id),
                             "supporters": result.supporters, "supported": True})
        return Response(detail_for(request, ref.tracking, actor))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        if name == "support":  # a supporter who may not read the appeal gets the count
            answer: Any = PolymorphicProxySerializer(
                component_name="AppealOrSupported", serializers=[AppealOut, SupportedOut],
                resource_type_field_name=None)
            limited = rate_limited("too many anonymous supports from this address")
            return {200: answer, **conflict(), **limited}
        if name == "rate":
            limited = rate_limited("too many anonymous ratings from this address")
            return {200: AppealOut, **conflict(), **limited}
        return {200: AppealOut, **conflict()}


class StatsView(APIView):
    """GET /api/v1/stats/?grid=CODE&since=&until=&by=category|channel"""

    @extend_schema(
        summary="Closed-loop statistics of a grid's subtree",
        parameters=[OpenApiParameter("grid", str, description="default: your own grid"),
                    OpenApiParameter("since", str), OpenApiParameter("until", str),
                    OpenApiParameter("by", str, enum=list(BY_CHOICES))],
        responses={200: StatsOut},
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
                   responses={200: NotificationPageOut})
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

    @extend_schema(request=NotificationReadSerializer, responses={200: MarkedOut})
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

    @extend_schema(parameters=[LocateInSerializer], responses={
        200: LocateOut, **rate_limited("too many anonymous look-ups from this address")})
    def get(self, request: Request) -> Response:
        _limit("locate", request, _("too many requests; try again later"))
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
