"""The care API under /api/v1/care/: thin views over layers.care.access and .services.

Every answer carrying personal data writes exactly one access-log row in the same transaction
(a list names the subjects on the page, a record its subject, an "open with reason" is an
unmask with the reason). A subject the viewer may not see answers 404, like one that does not
exist. Errors are raised and shaped by geogrid.errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Prefetch, Q, QuerySet
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
from geogrid.models import AccessLog
from geogrid.openapi import conflict, rate_limited
from geogrid.queryparams import PageParams
from layers.care import plan, services
from layers.care.access import (
    FULL_FIELDS,
    MASKED_FIELDS,
    VISITOR_FIELDS,
    CareViewer,
    Level,
    in_roots,
    persons_in,
)
from layers.care.inputs import EnrolInput, ExtraRoundInput, OpenInput
from layers.care.models import CareEvent, CareProposal, CareSubject, Colour, Visit, VisitDue
from layers.care.serializers import (
    DueOut,
    DueRowOut,
    ExtraRoundOut,
    ProposalOut,
    SubjectOut,
    SubjectPage,
    VisitOut,
    checklist,
    due_out,
    event_out,
    mask_name,
    proposal_out,
    subject_out,
    visit_out,
)
from layers.care.services import PROPOSAL_ACTIONS, SUBJECT_ACTIONS, subject_home
from layers.people.models import Residence

GRID = serializers.RegexField(r"^[0-9]{1,32}$", required=False, default=None,
                              help_text="a grid code: its subtree")
LEVEL_FIELDS = {Level.MASKED: MASKED_FIELDS, Level.VISITOR: VISITOR_FIELDS,
                Level.FULL: FULL_FIELDS}


def viewer_of(request: Request) -> CareViewer:
    if not request.user.is_authenticated:
        raise NotAuthenticated(_("log in to see care records"))
    return CareViewer(request.user)


def _homes() -> QuerySet[Residence]:
    """Open residences with their home, prefetched as `person.open_rows` (access.home_of)."""
    return Residence.objects.filter(valid_to__isnull=True).select_related(
        "household__dwelling__building__grid")


def subjects_for(viewer: CareViewer) -> QuerySet[CareSubject]:
    return (CareSubject.objects.filter(viewer.subjects_q())
            .select_related("person")
            .prefetch_related(Prefetch("person__residences", queryset=_homes(),
                                       to_attr="open_rows"),
                              "groups", "visitors__user",
                              Prefetch("dues", queryset=VisitDue.objects.filter(plan.OPEN)
                                       .order_by("due_at", "id"), to_attr="open_dues")))


def _shaped(request: Request, viewer: CareViewer, rows: Sequence[CareSubject], action: str,
            reason: str = "", level_at_least: Level | None = None) -> list[dict]:
    """The subjects as this viewer may see them, with one access-log row for all of them."""
    out: list[dict] = []
    fields: set[str] = set()
    posts: set[str] = set()
    for s in rows:
        home = subject_home(s)
        level = viewer.level(s, home)
        if level_at_least is not None:
            level = max(level, level_at_least)
        dues: list[VisitDue] = getattr(s, "open_dues", [])
        actions = SUBJECT_ACTIONS.available(s.status, viewer, s)
        out.append(subject_out(s, level, home, dues[0] if dues else None, actions))
        fields.update(LEVEL_FIELDS[level])
        posts.add(viewer.post_for_log(level))
    if rows:
        accesslog.record(request, user=request.user, post=",".join(sorted(posts)),
                         action=action, subject_type="care_subject",
                         subject_ids=[s.pk for s in rows], fields=fields, reason=reason)
    return out


def _subject(viewer: CareViewer, pk: int) -> CareSubject:
    subject = subjects_for(viewer).filter(pk=pk).first()
    if subject is None:
        raise NotFound(_("no such care subject"))
    return subject


class SubjectParams(PageParams):
    grid = GRID
    colour = serializers.ChoiceField(choices=Colour.choices, required=False, default=None)
    status = serializers.ChoiceField(choices=CareSubject.Status.choices, required=False,
                                     default=CareSubject.Status.ACTIVE)
    overdue = serializers.BooleanField(required=False, default=False,
                                       help_text="only subjects with a visit past due")
    group = serializers.SlugField(max_length=24, required=False, default=None,
                                  help_text="a group code (only where you may see groups)")


class SubjectListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_subjects_list",
                   summary="Care subjects you may see, soonest due first (one access-log row)",
                   parameters=[SubjectParams], responses={200: SubjectPage})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = SubjectParams.parse(request.query_params)
        now = timezone.now()
        rows = subjects_for(viewer).filter(status=p["status"])
        if p["grid"]:
            rows = rows.filter(persons_in([p["grid"]]))
        if p["colour"]:
            rows = rows.filter(colour=p["colour"])
        if p["group"]:  # a filter by group would reveal it: only where groups are visible
            rows = rows.filter(groups__code=p["group"])
            if not viewer.is_super:
                rows = rows.filter(persons_in(viewer.full_roots))
        if p["overdue"]:
            rows = rows.filter(Exists(VisitDue.objects.filter(
                plan.OPEN, subject=OuterRef("pk"), due_at__lt=now)))
        rows = rows.annotate(next_due_at=Min("dues__due_at", filter=Q(
            dues__met_at__isnull=True, dues__cancelled_at__isnull=True)))
        size = p["page_size"] or 100
        with transaction.atomic():
            count = rows.count()
            page = list(rows.order_by(F("next_due_at").asc(nulls_last=True), "id")
                        [(p["page"] - 1) * size:p["page"] * size])
            results = _shaped(request, viewer, page, AccessLog.Action.LIST)
        return Response({"count": count, "page": p["page"], "page_size": size,
                         "results": results})

    @extend_schema(operation_id="care_subjects_enrol",
                   summary="Propose to enrol a person (community staff approve)",
                   request=EnrolInput, responses={201: SubjectOut, **conflict()})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = EnrolInput(data=request.data)
        data.is_valid(raise_exception=True)
        subject = services.enrol(viewer, **data.validated_data)
        with transaction.atomic():
            shaped = _shaped(request, viewer, [_subject(viewer, subject.pk)],
                             AccessLog.Action.READ)
        return Response(shaped[0], status=201)


class SubjectDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_subject_detail",
                   summary="One subject as you may see it, with the checklist, pending "
                           "proposal and (full level) timeline — one access-log row",
                   responses={200: SubjectOut})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        with transaction.atomic():
            subject = _subject(viewer, pk)
            out = _shaped(request, viewer, [subject], AccessLog.Action.READ)[0]
        return Response(_detail(subject, out))


def _detail(subject: CareSubject, out: dict) -> dict:
    full = out["level"] == "full"
    if out["level"] == "masked":
        return out
    out["checklist"] = checklist()
    out["dues"] = [due_out(d) for d in getattr(subject, "open_dues", [])]
    pending = subject.proposals.filter(outcome=CareProposal.Outcome.PENDING).first()
    out["pending_proposal"] = proposal_out(pending, full) if pending else None
    if full:
        out["timeline"] = [event_out(e, full) for e in
                           CareEvent.objects.filter(subject=subject).order_by("at", "id")]
    return out


class OpenView(APIView):
    """POST /care/subjects/{id}/open/ {reason} — the whole record (groups included) of one
    subject a viewer sees masked, for a reason that goes to the access log as an unmask; the
    daily limit of unmasks is shared with the people register's."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_subject_open", request=OpenInput,
                   summary="Open one masked subject with a reason (logged, daily limit)",
                   responses={200: SubjectOut,
                              **rate_limited(_("the daily unmask limit is reached"))})
    def post(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        with transaction.atomic():
            subject = _subject(viewer, pk)  # out of sight → 404 before the body is read
            home = subject_home(subject)
            if not viewer.may(Capability.CARE_UNMASK, home.grid_code):
                raise PermissionDenied(_("your post may not open care records"))
            data = OpenInput(data=request.data if hasattr(request.data, "get") else {})
            data.is_valid(raise_exception=True)
            accesslog.claim_unmask(request.user, settings.GEOGRID["UNMASK_DAILY_LIMIT"],
                                   exempt=viewer.is_super)
            out = _shaped(request, viewer, [subject], AccessLog.Action.UNMASK,
                          reason=data.validated_data["reason"], level_at_least=Level.FULL)[0]
            CareEvent.objects.create(subject=subject, kind=CareEvent.Kind.OPENED,
                                     actor=viewer.user, role=viewer.post_for_log(Level.MASKED),
                                     data={"reason": data.validated_data["reason"]})
        return Response(_detail(subject, out))


class SubjectActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        # Out of sight is a 404 and no right a 403, before the body is read (the service
        # checks again, locked).
        viewer = viewer_of(request)
        subject = CareSubject.objects.filter(viewer.subjects_q(), pk=kwargs["pk"]).first()
        if subject is None:
            raise NotFound(_("no such care subject"))
        if not self.registry[self.action_name].who(viewer, subject):
            raise PermissionDenied(_("you may not %(action)s here")
                                   % {"action": self.action_name})
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> CareViewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        if isinstance(result, Visit):
            return Response(visit_out(result), status=201)
        if isinstance(result, VisitDue):
            return Response(due_out(result), status=201)
        if isinstance(result, CareProposal):
            return Response(proposal_out(result, True), status=201)
        with transaction.atomic():
            return Response(_shaped(request, actor, [_subject(actor, ref)],
                                    AccessLog.Action.READ)[0])

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        schema = {"record_visit": VisitOut, "trigger": DueOut, "reassess": ProposalOut,
                  "exit": ProposalOut}
        if name in schema:
            return {201: schema[name], **conflict()}
        return {200: SubjectOut, **conflict()}


# -- visits -----------------------------------------------------------------------------------
class VisitListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_subject_visits", parameters=[PageParams],
                   summary="A subject's visits, newest first (its visitors and full viewers)",
                   responses={200: VisitOut(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        viewer = viewer_of(request)
        p = PageParams.parse(request.query_params)
        with transaction.atomic():
            subject = _subject(viewer, pk)
            level = viewer.level(subject, subject_home(subject))
            if level < Level.VISITOR:
                raise PermissionDenied(_("visits are for the subject's visitors and care staff"))
            size = p["page_size"] or 50
            visits = list(Visit.objects.filter(subject=subject).select_related("appeal")
                          .prefetch_related("photos").order_by("-started_at", "-id")
                          [(p["page"] - 1) * size:p["page"] * size])
            accesslog.record(request, user=request.user, post=viewer.post_for_log(level),
                             action=AccessLog.Action.READ, subject_type="care_subject",
                             subject_ids=[subject.pk], fields=["visits"])
        return Response([visit_out(v) for v in visits])


# -- the overdue list -------------------------------------------------------------------------
class DueParams(PageParams):
    grid = GRID
    state = serializers.ChoiceField(choices=[("open", "open"), ("overdue", "overdue")],
                                    required=False, default="overdue")
    mine = serializers.BooleanField(required=False, default=False,
                                    help_text="only subjects you visit")


class DueListView(APIView):
    """Visits owed in your scope, most overdue first. Viewers who may see the subjects get
    name (masked at level masked), address and colour; counts-only posts get the grid and the
    due only — no personal data, no access-log row."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_dues_list", parameters=[DueParams],
                   summary="Visits due or overdue in your scope",
                   responses={200: DueRowOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = DueParams.parse(request.query_params)
        roots = viewer.counts_roots
        seen = CareSubject.objects.filter(viewer.subjects_q())
        if p["mine"]:
            seen = seen.filter(pk__in=viewer.visiting_ids) | seen.filter(
                persons_in(viewer.grants.codes(Capability.CARE_GRID)))
        scope = Q(subject__in=seen)
        if not p["mine"] and (roots or viewer.is_super):
            scope |= Q(persons_in(roots, "subject__person_id"))
        rows = (VisitDue.objects.filter(plan.OPEN, scope, subject__status="active")
                .select_related("subject__person")
                .prefetch_related(Prefetch("subject__person__residences", queryset=_homes(),
                                           to_attr="open_rows")))
        if p["state"] == "overdue":
            rows = rows.filter(due_at__lt=timezone.now())
        if p["grid"]:
            rows = rows.filter(persons_in([p["grid"]], "subject__person_id"))
        size = p["page_size"] or 100
        with transaction.atomic():
            page = list(rows.order_by("due_at", "id")[(p["page"] - 1) * size:p["page"] * size])
            return Response(_due_rows(request, viewer, page))


def _due_rows(request: Request, viewer: CareViewer, dues: Sequence[VisitDue]) -> list[dict]:
    out, shown = [], []
    for due in dues:
        subject = due.subject
        home = subject_home(subject)
        level = viewer.level(subject, home)
        row: dict[str, Any] = {"due": due_out(due), "grid": home.grid_code,
                               "grid_name": home.grid_name, "subject": None}
        if level >= Level.MASKED:
            row.update({"subject": subject.pk, "address": home.address,
                        "colour": subject.colour,
                        "name": subject.person.name if level >= Level.VISITOR
                        else mask_name(subject.person.name)})
            shown.append(subject.pk)
        out.append(row)
    if shown:
        accesslog.record(request, user=request.user, post=viewer.post_for_log(Level.VISITOR),
                         action=AccessLog.Action.LIST, subject_type="care_subject",
                         subject_ids=sorted(set(shown)), fields=["name", "address", "colour"])
    return out


# -- proposals --------------------------------------------------------------------------------
class ProposalParams(PageParams):
    outcome = serializers.ChoiceField(choices=CareProposal.Outcome.choices, required=False,
                                      default=CareProposal.Outcome.PENDING)
    grid = GRID


class ProposalListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_proposals_list", parameters=[ProposalParams],
                   summary="Proposals on subjects you see fully (to decide, or your own)",
                   responses={200: ProposalOut(many=True)})
    def get(self, request: Request) -> Response:
        viewer = viewer_of(request)
        p = ProposalParams.parse(request.query_params)
        roots = viewer.full_roots
        rows = CareProposal.objects.filter(outcome=p["outcome"])
        if not viewer.is_super:
            rows = rows.filter(persons_in(roots, "subject__person_id"))
        if p["grid"]:
            rows = rows.filter(persons_in([p["grid"]], "subject__person_id"))
        size = p["page_size"] or 100
        with transaction.atomic():
            page = list(rows.select_related("subject__person").order_by("proposed_at", "id")
                        [(p["page"] - 1) * size:p["page"] * size])
            out = []
            for proposal in page:
                item = proposal_out(proposal, True)
                item["name"] = proposal.subject.person.name
                item["actions"] = PROPOSAL_ACTIONS.available(proposal.outcome, viewer, proposal)
                out.append(item)
            if page:
                accesslog.record(request, user=request.user,
                                 post=viewer.post_for_log(Level.FULL),
                                 action=AccessLog.Action.LIST, subject_type="care_subject",
                                 subject_ids=sorted({x.subject_id for x in page}),
                                 fields=["name", "groups", "colour"])
        return Response(out)


class ProposalActionView(ActionView):
    permission_classes = [IsAuthenticated]

    def load(self, request: Request, **kwargs: Any) -> int:
        viewer = viewer_of(request)
        proposal = CareProposal.objects.filter(pk=kwargs["pk"]).select_related("subject").first()
        if proposal is None or (not in_roots(subject_home(proposal.subject).grid_code,
                                             viewer.full_roots) and not viewer.is_super):
            raise NotFound(_("no such proposal"))
        if not self.registry[self.action_name].who(viewer, proposal):
            raise PermissionDenied(_("your post may not decide care proposals"))
        return int(kwargs["pk"])

    def actor(self, request: Request, ref: Any) -> CareViewer:
        return viewer_of(request)

    def respond(self, request: Request, ref: Any, actor: Any, result: Any) -> Response:
        return Response(proposal_out(result, True))

    @classmethod
    def action_response_schema(cls, name: str) -> Any:
        return {200: ProposalOut, **conflict()}


# -- extra rounds -----------------------------------------------------------------------------
class ExtraRoundView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="care_extra_round", request=ExtraRoundInput,
                   summary="Order an extra round of visits (holiday, bad weather)",
                   responses={201: ExtraRoundOut})
    def post(self, request: Request) -> Response:
        viewer = viewer_of(request)
        data = ExtraRoundInput(data=request.data)
        data.is_valid(raise_exception=True)
        extra = services.order_extra_round(viewer, **data.validated_data)
        return Response({"id": extra.pk, "grid": extra.grid.code, "due_at": extra.due_at,
                         "reason": extra.reason, "colours": extra.colours,
                         "subjects": extra.subjects}, status=201)

