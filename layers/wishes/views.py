"""The wishes API under /api/v1/wishes/: thin views over layers.wishes.access and .services.

- `wall/` is open to everyone, signed in or not: it carries no personal data (the public title,
  category, community, value band), like the 公示 board it replaces.
- `mine/`, `claims/`, `{id}/`, `{id}/contact/`, the actions and the photos need a login.
- `/` lists the wishes a viewer sees as staff (grid workers, community staff, unit leaders),
  and takes a posted wish (residents and those who post for them).

Every answer carrying the wisher's personal data to someone other than the wisher (the staff
list, a staff-level record, the contact) writes exactly one access-log row in the same
transaction. A wish the viewer may not see answers 404, like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.actions import ActionView
from geogrid.errors import NotFound
from geogrid.models import AccessLog
from geogrid.openapi import conflict
from geogrid.queryparams import PageParams, page_of
from layers.people import identity
from layers.people.serializers import room_label
from layers.wishes import services
from layers.wishes.access import (
    CONTACT_FIELDS,
    LIVE_FOR_CONTACT,
    STAFF_FIELDS,
    Level,
    WishViewer,
    on_wall_q,
)
from layers.wishes.conf import wish_setting
from layers.wishes.inputs import PostInput
from layers.wishes.models import Category, Claim, Wish, WishEvent
from layers.wishes.serializers import (
    ContactOut,
    MyClaimsOut,
    WallPage,
    WishOut,
    WishPage,
    claim_out,
    wall_out,
    wish_out,
)
from layers.wishes.services import WISH_ACTIONS, live_claim

GRID = serializers.RegexField(r"^[0-9]{1,32}$", required=False, default=None,
                              help_text="a grid code: its subtree")


def viewer_of(request: Request) -> WishViewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see your wishes"))
    return WishViewer(request.user)


def wishes() -> QuerySet[Wish]:
    return (Wish.objects.select_related("grid", "community", "household__dwelling__building",
                                        "wisher", "directed_to")
            .prefetch_related(Prefetch("events", queryset=WishEvent.objects.order_by("at", "id")),
                              Prefetch("claims", queryset=Claim.objects.filter(
                                  status__in=Claim.LIVE).select_related("volunteer",
                                                                        "partner_unit"),
                                       to_attr="live_claims")))


def _live(w: Wish) -> Claim | None:
    rows = getattr(w, "live_claims", None)
    if rows is None:
        return live_claim(w)
    w._live = rows[0] if rows else None  # type: ignore[attr-defined]
    return w._live  # type: ignore[attr-defined]


def _shaped(request: Request, viewer: WishViewer, rows: Sequence[Wish],
            action: str = AccessLog.Action.READ) -> list[dict[str, Any]]:
    """The wishes as this viewer may see them, with one access-log row for those whose wisher
    is shown to staff (levels UNIT and FULL)."""
    out, logged, posts = [], [], set()
    for w in rows:
        live = _live(w)
        level = viewer.level(w, live)
        out.append(wish_out(w, level, live, WISH_ACTIONS.available(w.status, viewer, w)))
        if level >= Level.UNIT:
            logged.append(w.wisher_id)
            posts.add(viewer.post_for_log(level))
    if logged:
        accesslog.record(request, user=request.user, post=",".join(sorted(posts)), action=action,
                         subject_type="wish_wisher", subject_ids=logged, fields=STAFF_FIELDS)
    return out


def _visible(viewer: WishViewer, pk: int) -> Wish:
    w = wishes().filter(pk=pk).first()
    if w is None or viewer.level(w, _live(w)) == Level.NONE:
        raise NotFound(_("no such wish"))
    return w


# -- the wall ---------------------------------------------------------------------------------
class WallParams(PageParams):
    community = GRID
    category = serializers.ChoiceField(choices=Category.choices, required=False, default=None)


class WallView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="wishes_wall", parameters=[WallParams],
                   summary="The wall: published wishes, newest first — no wisher identity",
                   responses={200: WallPage})
    def get(self, request: Request) -> Response:
        p = WallParams.parse(request.query_params)
        rows = (Wish.objects.filter(on_wall_q(), publish_until__gt=timezone.now())
                .select_related("community").order_by("-published_at", "-id"))
        if p["community"]:
            rows = rows.filter(grid__code__startswith=p["community"])
        if p["category"]:
            rows = rows.filter(category=p["category"])
        count, size, page = page_of(rows, p)
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": [wall_out(w) for w in page]})


# -- the staff list, and posting --------------------------------------------------------------
class ListParams(PageParams):
    grid = GRID
    status = serializers.ChoiceField(choices=Wish.Status.choices, required=False, default=None)
    category = serializers.ChoiceField(choices=Category.choices, required=False, default=None)


class WishListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="wishes_list", parameters=[ListParams],
                   summary="Wishes you see as staff, newest first (one access-log row)",
                   responses={200: WishPage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = ListParams.parse(request.query_params)
        rows = wishes().filter(viewer.staff_q()).distinct()
        if p["grid"]:
            rows = rows.filter(grid__code__startswith=p["grid"])
        if p["status"]:
            rows = rows.filter(status=p["status"])
        if p["category"]:
            rows = rows.filter(category=p["category"])
        with transaction.atomic():
            count, size, page = page_of(rows.order_by("-posted_at", "-id"), p, 100)
            results = _shaped(request, viewer, page, AccessLog.Action.LIST)
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": results})

    @extend_schema(operation_id="wishes_post", request=PostInput,
                   summary="Post a wish: your own, or for a household of your scope",
                   responses={201: WishOut, **conflict()})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = PostInput(data=request.data if hasattr(request.data, "get") else {})
        data.is_valid(raise_exception=True)
        wish = services.post_wish(viewer, **data.validated_data)
        with transaction.atomic():
            return Response(_shaped(request, viewer, [_visible(viewer, wish.pk)])[0], status=201)


class MineView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="wishes_mine", parameters=[PageParams],
                   summary="Your own wishes (you wish, or you posted them)",
                   responses={200: WishPage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        rows = wishes().filter(viewer.own_q()).order_by("-posted_at", "-id")
        with transaction.atomic():
            count, size, page = page_of(rows, p)
            results = _shaped(request, viewer, page)
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": results})


class MyClaimsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="wishes_my_claims", parameters=[PageParams],
                   summary="Your claims (live first) and wishes directed to you",
                   responses={200: MyClaimsOut})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        size = p["page_size"] or 50
        claims = list(Claim.objects.filter(viewer.claims_q()).distinct()
                      .select_related("volunteer", "partner_unit")
                      .prefetch_related("photos").order_by("ended_at", "-claimed_at", "-id")
                      [(p["page"] - 1) * size:p["page"] * size])
        by_id = {w.pk: w for w in wishes().filter(pk__in={c.wish_id for c in claims})}
        offers = (wishes().filter(directed_to=viewer.volunteer, status=Wish.Status.PUBLISHED)
                  if viewer.volunteer else Wish.objects.none())
        active = (Claim.objects.filter(volunteer=viewer.volunteer, status=Claim.Status.ACTIVE)
                  .count() if viewer.volunteer else 0)
        with transaction.atomic():
            shown = list(by_id.values()) + list(offers)
            shaped = dict(zip([w.pk for w in shown], _shaped(request, viewer, shown),
                              strict=True))
            out = [{"claim": claim_out(c), "wish": shaped[c.wish_id]} for c in claims]
            return Response({"claims": out, "offers": [shaped[w.pk] for w in offers],
                             "active": active, "max_active": wish_setting("MAX_ACTIVE_CLAIMS")})


# -- one wish ---------------------------------------------------------------------------------
class WishDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="wishes_detail",
                   summary="One wish as you may see it (staff levels: one access-log row)",
                   responses={200: WishOut})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        with transaction.atomic():
            return Response(_shaped(request, viewer, [_visible(viewer, pk)])[0])


def contact_out(w: Wish) -> dict[str, Any]:
    d = w.household.dwelling
    phone = identity.open_value(w.wisher.phone_cipher, identity.PHONE_COLUMN) \
        or identity.open_value(w.household.contact_phone_cipher, identity.CONTACT_COLUMN)
    return {"wish": w.code, "name": w.wisher.name, "phone": phone,
            "address": d.building.address, "room": room_label(d)}


class ContactView(APIView):
    """The wisher's name, phone and address — for the claimant of the wish's claim, while it
    is active or delivered; released (cancelled, timed out, revoked), confirmed or never theirs:
    403. Each answer is one access-log row."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="wishes_contact",
                   summary="The wisher's contact, for the claimant while the claim is live",
                   responses={200: ContactOut})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        with transaction.atomic():
            w = wishes().filter(pk=pk).first()
            live = _live(w) if w is not None else None
            if w is None or (viewer.level(w, live) == Level.NONE
                             and not Claim.objects.filter(viewer.claims_q(), wish=w).exists()):
                raise NotFound(_("no such wish"))
            if live is None or live.status not in LIVE_FOR_CONTACT or not viewer.holds(live):
                raise PermissionDenied(_("the contact is for the claimant while the claim is "
                                         "open"))
            accesslog.record(request, user=request.user, post="wish_claimant",
                             action=AccessLog.Action.READ, subject_type="wish_wisher",
                             subject_ids=[w.wisher_id], fields=CONTACT_FIELDS)
            return Response(contact_out(w))


def _was_on_the_wall(action: str, viewer: WishViewer, w: Wish) -> bool:
    """A volunteer claiming a wish someone else took meanwhile hears 409 (taken), not 404: it
    was on the public wall, so its existence is no secret."""
    return action == "claim" and viewer.may_claim and w.published_at is not None


class WishActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        # Out of sight is a 404 and no right a 403, before the body is read (the service
        # checks again, locked).
        viewer = viewer_of(request)
        w = wishes().filter(pk=kwargs["pk"]).first()
        if w is None or (viewer.level(w, _live(w)) == Level.NONE
                         and not _was_on_the_wall(self.action_name, viewer, w)):
            raise NotFound(_("no such wish"))
        if not self.registry[self.action_name].who(viewer, w):
            raise PermissionDenied(_("you may not %(action)s this wish")
                                   % {"action": self.action_name})
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> WishViewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        with transaction.atomic():
            shaped = _shaped(request, actor, [_visible(actor, ref)])[0]
        return Response(shaped, status=201 if isinstance(result, Claim) else 200)

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        if name in ("claim", "accept"):
            return {201: WishOut, **conflict()}
        return {200: WishOut, **conflict()}

