"""/api/v1/deliberation/…: proposals (list, propose, one, its meetings, the actions — one
endpoint each, from PROPOSAL_ACTIONS), offers, 嵩阳's three lists and the figures. Thin: parse,
call the service, shape the answer; errors are raised (one shape).

Who sees what is layers.deliberation.access: a proposal out of the caller's sight is a 404
like one that does not exist; anonymous callers get 403. The lists are staff's (they name
appeals); the figures are counts, open to staff, dispatchers and grid managers over the grid.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from geogrid.actions import ActionView
from geogrid.errors import NotFound
from geogrid.openapi import conflict
from geogrid.queryparams import PageParams, QueryParams, YearParams, page_of
from layers.appeals.actors import Actor
from layers.deliberation import access, figures, lists, services
from layers.deliberation.access import Level
from layers.deliberation.inputs import CODE_MAX, OfferInput, ProposeInput
from layers.deliberation.models import OPEN_STAGES, Meeting, Proposal, Stage
from layers.deliberation.serializers import (
    DelibFiguresOut,
    DelibMeetingsOut,
    DelibNeedsOut,
    DelibOfferOut,
    DelibOffersOut,
    DelibProjectsOut,
    DelibProposalOut,
    DelibProposalPageOut,
    meeting_out,
    offer_out,
    project_out,
    proposal_out,
)


def _rows() -> QuerySet[Proposal]:
    return (Proposal.objects.select_related("scope", "community", "decision", "project",
                                            "wish")
            .prefetch_related(Prefetch("meetings", Meeting.objects.order_by("held_at", "id")),
                              "appeals"))


def _one(actor: Actor, pk: int, now: dt.datetime) -> tuple[Proposal, Level]:
    found = access.visible(actor, _rows().prefetch_related("events"), now).filter(pk=pk).first()
    level = access.level(actor, found, now) if found is not None else Level.NONE
    if found is None or level == Level.NONE:
        raise NotFound(_("no such proposal"))
    return found, level


class ListParams(PageParams):
    stage = serializers.MultipleChoiceField(
        choices=Stage.choices, required=False,
        help_text="one or more stages (repeat the parameter); default: every stage")
    open = serializers.BooleanField(required=False, default=False,
                                    help_text="only proposals not closed, rejected or withdrawn")
    grid = serializers.RegexField(r"^[0-9]{1,32}$", required=False,
                                  help_text="only proposals under this grid (code prefix)")


class ProposalListView(APIView):
    """GET the proposals in sight, newest first; POST proposes one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="deliberation_proposal_list", parameters=[ListParams],
                   responses={200: DelibProposalPageOut})
    def get(self, request: Request) -> Response:
        p = ListParams.parse(request.query_params)
        actor, now = Actor(user=request.user), timezone.now()
        rows = access.visible(actor, _rows(), now)
        if p.get("stage"):
            rows = rows.filter(stage__in=p["stage"])
        if p["open"]:
            rows = rows.filter(stage__in=OPEN_STAGES)
        if p.get("grid"):
            rows = rows.filter(figures.grid_q(p["grid"]))
        count, size, page = page_of(rows.order_by("-proposed_at", "-id"), p)
        return Response({"count": count, "page_size": size, "results": [
            proposal_out(x, actor, access.level(actor, x, now), now, full=False)
            for x in page]})

    @extend_schema(request=ProposeInput, responses={201: DelibProposalOut, **conflict()})
    def post(self, request: Request) -> Response:
        inputs = ProposeInput(data=request.data if hasattr(request.data, "get") else {})
        inputs.is_valid(raise_exception=True)
        actor = Actor(user=request.user)
        made = services.propose(actor, **inputs.validated_data)
        now = timezone.now()
        proposal, level = _one(actor, made.pk, now)
        return Response(proposal_out(proposal, actor, level, now), status=201)


class ProposalDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="deliberation_proposal_detail",
                   responses={200: DelibProposalOut})
    def get(self, request: Request, pk: int) -> Response:
        actor, now = Actor(user=request.user), timezone.now()
        proposal, level = _one(actor, pk, now)
        return Response(proposal_out(proposal, actor, level, now))


class MeetingsView(APIView):
    """GET the meetings held on a proposal: when, where, who came by kind; the minutes for
    the proposer and staff. Recording one is the hold_meeting action."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DelibMeetingsOut})
    def get(self, request: Request, pk: int) -> Response:
        actor, now = Actor(user=request.user), timezone.now()
        proposal, level = _one(actor, pk, now)
        return Response({"proposal": proposal.pk,
                         "meetings": [meeting_out(m, level) for m in proposal.meetings.all()]})


class GridParams(QueryParams):
    grid = serializers.RegexField(rf"^[0-9]{{1,{CODE_MAX}}}$", help_text="the grid's code")


def _staff_grid(request: Request) -> tuple[Actor, str]:
    p = GridParams.parse(request.query_params)
    actor = Actor(user=request.user)
    if not access.staff_role(actor, p["grid"]):
        raise PermissionDenied(_("the grid's community or subdistrict staff read its lists"))
    return actor, p["grid"]


class NeedsView(APIView):
    """GET 需求: the grid's open proposals and its open key-class appeals (each with the
    proposals it is linked to and the key-class rule's state). Staff of the grid."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[GridParams], responses={200: DelibNeedsOut})
    def get(self, request: Request) -> Response:
        actor, code = _staff_grid(request)
        now = timezone.now()
        proposals = lists.open_proposals(code).prefetch_related("meetings")[:lists.LIST_MAX]
        appeals: list[Any] = list(lists.open_key_appeals(code, now)[:lists.LIST_MAX])
        return Response({"grid": code, "proposals": [
            proposal_out(x, actor, Level.STAFF, now, full=False) for x in proposals],
            "key_appeals": [{
                "tracking": a.tracking, "category": a.category.code, "status": a.status,
                "grid": a.grid.code if a.grid else None, "reported_at": a.reported_at,
                "due_at": a.due_at, "limit_at": a.key_limit_at,
                "first_meeting_at": a.first_meeting_at, "on_time": a.key_on_time,
                "proposals": sorted(x.pk for x in a.proposals.all()),
            } for a in appeals]})


class OffersView(APIView):
    """GET 认领: the open offers of the grid's community; POST records one (the community's
    staff, or the volunteer / a member of the partner unit offering it)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[GridParams], responses={200: DelibOffersOut})
    def get(self, request: Request) -> Response:
        _actor, code = _staff_grid(request)
        return Response({"grid": code, "offers": [
            offer_out(o) for o in lists.open_offers(code)[:lists.LIST_MAX]]})

    @extend_schema(request=OfferInput, responses={201: DelibOfferOut})
    def post(self, request: Request) -> Response:
        inputs = OfferInput(data=request.data if hasattr(request.data, "get") else {})
        inputs.is_valid(raise_exception=True)
        offer = services.record_offer(Actor(user=request.user), **inputs.validated_data)
        return Response(offer_out(offer), status=201)


class ProjectsView(APIView):
    """GET 项目: the projects of the grid's proposals, with owner, due date and state."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[GridParams], responses={200: DelibProjectsOut})
    def get(self, request: Request) -> Response:
        _actor, code = _staff_grid(request)
        now = timezone.now()
        return Response({"grid": code, "projects": [
            {**project_out(pr, now), "proposal": pr.proposal_id, "title": pr.proposal.title,
             "grid": {"code": pr.proposal.scope.code, "name": pr.proposal.scope.name},
             "stage": pr.proposal.stage}
            for pr in lists.projects(code)[:lists.LIST_MAX]]})


class FiguresParams(YearParams, GridParams):
    """The grid and the period (proposed from `start` until `end`)."""


class FiguresView(APIView):
    """GET the figures per community under the grid: proposals by stage, meetings,
    participants, decisions, projects done, mean days to the first meeting, key-class appeals
    on time. Staff, dispatchers and grid managers over the grid."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[FiguresParams], responses={200: DelibFiguresOut})
    def get(self, request: Request) -> Response:
        p = FiguresParams.parse(request.query_params)
        if not access.may_read_figures(Actor(user=request.user), p["grid"]):
            raise PermissionDenied(_("staff, dispatchers and managers over the grid read its "
                                     "figures"))
        now = timezone.now()
        return Response(figures.figures(p["grid"], p["start"], p["end"], min(now, p["end"])))


class ProposalActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        # Out of sight → 404 and no right → 403 before the body is read (the service checks
        # again, under the lock).
        actor = Actor(user=request.user)
        proposal, _level = _one(actor, kwargs["pk"], timezone.now())
        action = self.registry[self.action_name]
        if not action.who(actor, proposal):
            raise PermissionDenied(_("you may not take this action: %(a)s")
                                   % {"a": action.label})
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> Actor:
        return Actor(user=request.user)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        now = timezone.now()
        proposal, level = _one(actor, ref, now)
        return Response(proposal_out(proposal, actor, level, now))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        return {200: DelibProposalOut, **conflict()}
