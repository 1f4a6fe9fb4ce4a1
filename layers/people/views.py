"""The people API under /api/v1/people/: thin views over layers.people.access and .services.

Every answer that carries personal data writes exactly one access-log row (geogrid.accesslog)
in the same transaction: a list names the households on the page, a record its household, an
unmask the person and the fields. A household the viewer may not see answers 404, the same as
one that does not exist. Errors are raised and shaped by geogrid.errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid import accesslog
from geogrid.actions import ActionView
from geogrid.capabilities import Capability
from geogrid.errors import NotFound
from geogrid.inputs import StrictCharField
from geogrid.models import AccessLog, Post, StaffAssignment
from geogrid.openapi import conflict, rate_limited
from geogrid.queryparams import PageParams, QueryParams, whole_number
from layers.people import identity
from layers.people.access import FULL_FIELDS, UNIT_FIELDS, Level, Viewer
from layers.people.inputs import UnmaskInput
from layers.people.models import (
    ChangeEvent,
    Dwelling,
    Household,
    MicroUnit,
    MicroUnitLeaderTerm,
    Person,
    Residence,
)
from layers.people.serializers import (
    ChangeOut,
    ChangePage,
    DwellingOut,
    HouseholdOut,
    HouseholdPage,
    IssueOut,
    ReaderOut,
    UnmaskOut,
    change_out,
    household_out,
    room_label,
)
from layers.people.services import DWELLING_ACTIONS, HOUSEHOLD_ACTIONS, as_change_verifier

GRID = serializers.RegexField(r"^[0-9]{1,32}$", required=False, default=None,
                              help_text="a grid code: its subtree")


def viewer_of(request: Request) -> Viewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see the register"))
    return Viewer(request.user)


class HouseholdParams(PageParams):
    grid = GRID
    micro_unit = whole_number(1, 2**62, default=None, help_text="a micro-unit id")
    building = whole_number(1, 2**62, default=None, help_text="a building id")
    tag = serializers.ChoiceField(choices=(), required=False, default=None)
    status = serializers.ChoiceField(choices=Household.Status.choices, required=False,
                                     default=Household.Status.ACTIVE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag = self.fields["tag"]
        assert isinstance(tag, serializers.ChoiceField)
        tag.choices = settings.GEOGRID["HOUSEHOLD_TAGS"]


def _open_rows() -> Prefetch:
    return Prefetch("residences", to_attr="open_rows",
                    queryset=Residence.objects.filter(valid_to__isnull=True)
                    .select_related("person").order_by("valid_from", "id"))


def households_for(viewer: Viewer) -> QuerySet[Household]:
    return (Household.objects.filter(viewer.households_q())
            .select_related("dwelling__building__grid", "dwelling__micro_unit"))


def _shaped(request: Request, viewer: Viewer, rows: list[Household],
            action: str) -> list[dict]:
    """The households as this viewer may see them, with one access-log row for all of them."""
    out: list[dict] = []
    fields: set[str] = set()
    posts: set[str] = set()
    for h in rows:
        level = viewer.level_of(h)
        rows_open: list[Residence] = h.open_rows  # type: ignore[attr-defined]
        heads = sorted(rows_open, key=lambda r: r.relation != Residence.Relation.HEAD)
        actions = HOUSEHOLD_ACTIONS.available(h.status, viewer, h)
        out.append(household_out(h, level, heads, actions))
        fields.update(FULL_FIELDS if level >= Level.SELF else UNIT_FIELDS)
        posts.add(viewer.post_for_log(level))
    if rows:
        accesslog.record(request, user=request.user, post=",".join(sorted(posts)),
                         action=action, subject_type="household",
                         subject_ids=[h.pk for h in rows], fields=fields)
    return out


class HouseholdListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="people_households_list",
                   summary="Households you may see (masked), one access-log row per page",
                   parameters=[HouseholdParams], responses={200: HouseholdPage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = HouseholdParams.parse(request.query_params)
        rows = households_for(viewer).filter(status=p["status"])
        if p["grid"]:
            rows = rows.filter(dwelling__building__grid__code__startswith=p["grid"])
        if p["micro_unit"]:
            rows = rows.filter(dwelling__micro_unit_id=p["micro_unit"])
        if p["building"]:
            rows = rows.filter(dwelling__building_id=p["building"])
        if p["tag"]:
            rows = rows.filter(tags__contains=[p["tag"]])
        size = p["page_size"] or 100
        with transaction.atomic():
            count = rows.count()
            page = list(rows.order_by("dwelling__building_id", "dwelling__unit_no",
                                      "dwelling__room_no", "id")
                        .prefetch_related(_open_rows())[(p["page"] - 1) * size:p["page"] * size])
            results = _shaped(request, viewer, page, AccessLog.Action.LIST)
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": results})


def _household(viewer: Viewer, pk: int) -> Household:
    household = (households_for(viewer).prefetch_related(_open_rows()).filter(pk=pk).first())
    if household is None:
        raise NotFound(_("no such household"))
    return household


class HouseholdDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="people_household_detail",
                   summary="One household as you may see it (one access-log row)",
                   responses={200: HouseholdOut})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        with transaction.atomic():
            household = _household(viewer, pk)
            return Response(_shaped(request, viewer, [household], AccessLog.Action.READ)[0])


class HouseholdActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        # Out of sight is a 404 before the body is read (the service checks again, locked).
        if not households_for(viewer_of(request)).filter(pk=kwargs["pk"]).exists():
            raise NotFound(_("no such household"))
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Viewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        if self.action_name == "raise_issue":
            return Response(issue_out(result), status=201)
        with transaction.atomic():
            household = _household(actor, ref)
            return Response(_shaped(request, actor, [household], AccessLog.Action.READ)[0])

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        if name == "raise_issue":
            return {201: IssueOut, **conflict()}
        return {200: HouseholdOut, **conflict()}


def issue_out(issue: Any) -> dict:
    return {"id": issue.pk, "household": issue.household_id, "text": issue.text,
            "status": issue.status, "appeal": issue.appeal.tracking if issue.appeal else None,
            "raised_at": issue.raised_at}


# -- dwellings ------------------------------------------------------------------------------
class DwellingParams(PageParams):
    building = whole_number(1, 2**62, default=None, help_text="a building id")
    micro_unit = whole_number(1, 2**62, default=None, help_text="a micro-unit id")
    usage = serializers.ChoiceField(choices=Dwelling.Usage.choices, required=False,
                                    default=None)


def dwellings_for(viewer: Viewer) -> QuerySet[Dwelling]:
    return Dwelling.objects.filter(viewer.dwellings_q())


def dwelling_out(d: Dwelling, viewer: Viewer) -> dict:
    return {"id": d.pk, "building": d.building.address, "building_id": d.building_id,
            "room": room_label(d), "usage": d.usage,
            "micro_unit": d.micro_unit.code if d.micro_unit else None,
            "households": getattr(d, "active_households", 0),
            "occupancy_verified_at": d.occupancy_verified_at,
            "actions": DWELLING_ACTIONS.available(d.usage, viewer, d)}


class DwellingListView(APIView):
    """Rooms without personal data (usage, how many households): what a leader picks from
    to record a move-in."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Dwellings you may report on", parameters=[DwellingParams],
                   responses={200: DwellingOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = DwellingParams.parse(request.query_params)
        rows = dwellings_for(viewer)
        for key in ("building", "micro_unit", "usage"):
            if p[key]:
                rows = rows.filter(**{key if key == "usage" else f"{key}_id": p[key]})
        size = p["page_size"] or 200
        rows = (rows.select_related("building__grid", "micro_unit")
                .annotate(active_households=Count(
                    "households", filter=Q(households__status=Household.Status.ACTIVE)))
                .order_by("building_id", "unit_no", "room_no")
                [(p["page"] - 1) * size:p["page"] * size])
        return Response([dwelling_out(d, viewer) for d in rows])


class DwellingActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        if not dwellings_for(viewer_of(request)).filter(pk=kwargs["pk"]).exists():
            raise NotFound(_("no such dwelling"))
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Viewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        if isinstance(result, Household):
            with transaction.atomic():
                household = _household(actor, result.pk)
                return Response(_shaped(request, actor, [household], AccessLog.Action.READ)[0],
                                status=201)
        d = (dwellings_for(actor).select_related("building__grid", "micro_unit")
             .annotate(active_households=Count(
                 "households", filter=Q(households__status=Household.Status.ACTIVE)))
             .get(pk=result.pk))
        return Response(dwelling_out(d, actor))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        if name == "move_in":
            return {201: HouseholdOut, **conflict()}
        return {200: DwellingOut, **conflict()}


# -- persons --------------------------------------------------------------------------------
def _person_in_scope(viewer: Viewer, pk: int, capability: Capability) -> tuple[Person, str]:
    """The person and the grid of their open residence, if `capability` reaches it."""
    row = (Residence.objects.filter(person_id=pk, valid_to__isnull=True)
           .select_related("person", "household__dwelling__building__grid").first())
    grid = row.household.dwelling.building.grid if row else None
    code = grid.code if grid else None
    if row is None or not viewer.may(capability, code):
        if row is not None and viewer.level_of(row.household) >= Level.SELF \
                and capability == Capability.UNMASK:
            raise PermissionDenied(_("your post may not unmask; ask community staff"))
        raise NotFound(_("no such person"))
    return row.person, code or ""


class UnmaskView(APIView):
    """POST /people/persons/{id}/unmask/ — the clear ID number and/or phone of one person, for
    community/subdistrict staff in scope, with a reason, within a daily limit; logged."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Unmask one person's identifiers (reason required; logged)",
                   request=UnmaskInput, responses={
                       200: UnmaskOut, **rate_limited(_("the daily unmask limit is reached"))})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        data = request.data if hasattr(request.data, "get") else {}
        inputs = UnmaskInput(data=data)
        inputs.is_valid(raise_exception=True)
        person, _code = _person_in_scope(viewer, pk, Capability.UNMASK)
        limit = settings.GEOGRID["UNMASK_DAILY_LIMIT"]
        with transaction.atomic():
            used = accesslog.claim_unmask(request.user, limit, exempt=viewer.is_super)
            fields = sorted(inputs.validated_data["fields"])
            out: dict[str, Any] = {"id": person.pk}
            if "id_number" in fields:
                out["id_number"] = identity.open_value(person.id_cipher, identity.ID_COLUMN)
            if "phone" in fields:
                out["phone"] = identity.open_value(person.phone_cipher, identity.PHONE_COLUMN)
            accesslog.record(request, user=request.user,
                             post=viewer.grants.post_for(Capability.UNMASK),
                             action=AccessLog.Action.UNMASK, subject_type="person",
                             subject_ids=[person.pk], fields=fields,
                             reason=inputs.validated_data["reason"])
        out["unmasks_left_today"] = max(0, limit - used - 1)
        return Response(out)


class PersonSearchParams(QueryParams):
    id_number = StrictCharField(max_length=32, help_text="exact ID number (searched by its "
                                "keyed hash; never stored or logged in the clear)")


class PersonSearchView(APIView):
    """Exact search by ID number, within the viewer's FULL scope: the household it lives in."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Find a person's household by exact ID number (logged)",
                   parameters=[PersonSearchParams], responses={200: HouseholdOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = PersonSearchParams.parse(request.query_params)
        if not (viewer.full_roots or viewer.is_super):
            raise PermissionDenied(_("your post may not search the register"))
        digest = identity.id_hash(p["id_number"])
        with transaction.atomic():
            rows = list(households_for(viewer).filter(
                residences__person__id_hash=digest, residences__valid_to__isnull=True)
                .prefetch_related(_open_rows()))
            rows = [h for h in rows if viewer.level_of(h) == Level.FULL]
            return Response(_shaped(request, viewer, rows, AccessLog.Action.LIST))


# -- changes --------------------------------------------------------------------------------
class ChangeParams(PageParams):
    grid = GRID
    state = serializers.ChoiceField(choices=["pending", "confirmed", "rejected", "all"],
                                    required=False, default="pending")
    household = whole_number(1, 2**62, default=None)


class ChangeListView(APIView):
    """Reported changes for those who verify them (grid workers and staff in scope)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Reported changes in your grids", parameters=[ChangeParams],
                   responses={200: ChangePage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = ChangeParams.parse(request.query_params)
        roots = viewer.grants.codes(Capability.VERIFY)
        if not roots and not viewer.is_super:
            raise PermissionDenied(_("your post does not verify changes"))
        rows = ChangeEvent.objects.select_related(
            "reported_by", "verification__verified_by", "micro_unit__grid",
            "household__dwelling__building__grid", "dwelling__building__grid")
        if not viewer.is_super:
            q = Q(pk__in=[])
            for r in roots:
                q |= (Q(household__dwelling__building__grid__code__startswith=r)
                      | Q(dwelling__building__grid__code__startswith=r)
                      | Q(micro_unit__grid__code__startswith=r))
            rows = rows.filter(q)
        if p["grid"]:
            g = p["grid"]
            rows = rows.filter(Q(household__dwelling__building__grid__code__startswith=g)
                               | Q(dwelling__building__grid__code__startswith=g)
                               | Q(micro_unit__grid__code__startswith=g))
        if p["household"]:
            rows = rows.filter(household_id=p["household"])
        if p["state"] == "pending":  # consequences the system drew need no verification
            rows = rows.filter(verification__isnull=True).exclude(
                source=ChangeEvent.Source.SYSTEM)
        elif p["state"] != "all":
            rows = rows.filter(verification__outcome=p["state"])
        size = p["page_size"] or 100
        count = rows.count()
        page = rows.order_by("-reported_at", "-id")[(p["page"] - 1) * size:p["page"] * size]
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": [change_out(c) for c in page]})


class ChangeActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        change = (ChangeEvent.objects.select_related(
            "household__dwelling__building__grid", "dwelling__building__grid",
            "micro_unit__grid").filter(pk=kwargs["pk"]).first())
        if change is None or not as_change_verifier(viewer_of(request), change):
            raise NotFound(_("no such change"))
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Viewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        change = (ChangeEvent.objects.select_related("reported_by", "verification__verified_by",
                                                     "micro_unit").get(pk=ref))
        return Response(change_out(change))

    @classmethod
    def response_schema(cls) -> Any:
        return {200: ChangeOut, **conflict()}


# -- micro-units ----------------------------------------------------------------------------
class MicroUnitParams(PageParams):
    grid = GRID


class MicroUnitOut(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    grid = serializers.CharField()
    households = serializers.IntegerField(help_text="active households")
    leader = serializers.CharField(allow_blank=True, help_text="the open term's leader")
    needs_review = serializers.BooleanField()
    review_note = serializers.CharField(allow_blank=True)
    warnings = serializers.ListField(child=serializers.CharField())


class MicroUnitListView(APIView):
    """Micro-units with their size and leader: for FULL viewers in scope, and leaders (their
    own units). A unit outside the 5–15 household range carries a warning."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Micro-units, their size and leader", parameters=[MicroUnitParams],
                   responses={200: MicroUnitOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = MicroUnitParams.parse(request.query_params)
        rows = MicroUnit.objects.select_related("grid")
        if not viewer.is_super:
            q = Q(pk__in=viewer.unit_ids)
            for root in viewer.full_roots:
                q |= Q(grid__code__startswith=root)
            rows = rows.filter(q)
        if p["grid"]:
            rows = rows.filter(grid__code__startswith=p["grid"])
        size = p["page_size"] or 200
        rows = (rows.annotate(active=Count("dwellings__households", filter=Q(
            dwellings__households__status=Household.Status.ACTIVE)))
            .order_by("code")[(p["page"] - 1) * size:p["page"] * size])
        units = list(rows)
        leaders = {t.micro_unit_id: t.user.get_full_name() or t.user.username
                   for t in MicroUnitLeaderTerm.objects.filter(
                       micro_unit__in=units, until__isnull=True).select_related("user")}
        return Response([{
            "id": u.pk, "code": u.code, "name": u.name, "grid": u.grid.code,
            "households": u.active, "leader": leaders.get(u.pk, ""),
            "needs_review": u.needs_review, "review_note": u.review_note,
            "warnings": size_warnings(u.active),
        } for u in units])


def size_warnings(households: int) -> list[str]:
    low, high = settings.GEOGRID["MICRO_UNIT_HOUSEHOLDS"]
    if households < low or households > high:
        return [_("%(n)d households: a micro-unit should have %(low)d to %(high)d")
                % {"n": households, "low": low, "high": high}]
    return []


# -- the access report ----------------------------------------------------------------------
class ReportParams(QueryParams):
    days = whole_number(1, 366, default=30, help_text="the last N days")


class AccessReportView(APIView):
    """Who read the most personal data lately: for subdistrict staff and superusers."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Heaviest readers of personal data", parameters=[ReportParams],
                   responses={200: ReaderOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        roots = [c for c, post in viewer.grants.posts if post == Post.SUBDISTRICT_STAFF]
        if not (viewer.is_super or roots):
            raise PermissionDenied(_("only subdistrict staff see the access report"))
        p = ReportParams.parse(request.query_params)
        since = timezone.now() - dt.timedelta(days=p["days"])
        readers = None
        if not viewer.is_super:  # the staff of their own subdistrict
            q = Q(pk__in=[])
            for root in roots:
                q |= Q(grid__code__startswith=root)
            readers = StaffAssignment.objects.current().filter(q).values("user_id")
        return Response(accesslog.heaviest_readers(since, readers=readers))
