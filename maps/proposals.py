"""协商议事 screen (layers/deliberation, issue 19 item 4): /m/proposals/ — community staff run
proposals, on a phone or at a desk.

- 嵩阳's three lists as tabs for the staff member's community: 需求 needs (open proposals and
  open key-class appeals), 认领 offers, 项目 projects;
- a proposal form (title, description, size, grid: the community or a grid in it);
- one proposal: its stage, what was decided at each stage, its meetings, its timeline and the
  buttons the API offers in its `actions` (assess, hold_meeting, decide, start_project,
  evaluate, close, withdraw, link_appeals), each asking for the fields of PROPOSAL_ACTIONS'
  client data.

Everything shown comes from the deliberation API (/api/v1/deliberation/…) as this user may see
it; the page holds labels and the names of the user's own communities and their grids. Routed
in maps/urls.py; the navigation offers it to community and subdistrict staff (maps/views.py).
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from geogrid.hierarchy import Level
from geogrid.models import Grid, Post, StaffAssignment
from layers.deliberation.models import Assessment, Effect, Offer, Project, Size, Stage, Venue
from layers.deliberation.services import PROPOSAL_ACTIONS
from maps.views import page

STAFF_POSTS = (Post.COMMUNITY_STAFF, Post.SUBDISTRICT_STAFF)
GRIDS_MAX = 400  # grids offered in the proposal form, over all the user's communities


def may_run_proposals(user: Any) -> bool:
    """Community or subdistrict staff (a current post), or a superuser."""
    return bool(user.is_authenticated and (user.is_superuser or StaffAssignment.objects.current()
                .filter(user=user, post__in=STAFF_POSTS).exists()))


def staff_communities(user: Any) -> list[dict]:
    """The communities whose proposals the user runs, each with its grids (itself first)."""
    rows = Grid.objects.current().filter(level=Level.COMMUNITY)
    if not user.is_superuser:
        codes = list(StaffAssignment.objects.current().filter(user=user, post__in=STAFF_POSTS)
                     .values_list("grid__code", flat=True))
        if not codes:
            return []
        rows = rows.filter(reduce(or_, [Q(code__startswith=c) for c in codes]))
    communities = [{"code": c, "name": n, "grids": []}
                   for c, n in rows.order_by("code").values_list("code", "name")]
    if not communities:
        return []
    under = (Grid.objects.current().filter(level__gt=Level.COMMUNITY)
             .filter(reduce(or_, [Q(code__startswith=c["code"]) for c in communities]))
             .order_by("code").values_list("code", "name", "level")[:GRIDS_MAX])
    by_code = {c["code"]: c for c in communities}
    for c in communities:
        c["grids"].append({"code": c["code"], "name": c["name"], "level": Level.COMMUNITY})
    for code, name, level in under:
        community = next((by_code[k] for k in by_code if code.startswith(k)), None)
        if community is not None:
            community["grids"].append({"code": code, "name": name, "level": level})
    return communities


def _choices(choices: Any) -> dict[str, str]:
    return {str(value): str(label) for value, label in choices}


def _strings() -> dict[str, str]:
    return {
        "needs": _("Needs (需求)"), "offers": _("Offers (认领)"), "projects": _("Projects (项目)"),
        "newProposal": _("New proposal"), "back": _("Back to the lists"),
        "openProposals": _("Open proposals"), "keyAppeals": _("Key-class appeals to negotiate"),
        "noProposals": _("No open proposal."), "noKeyAppeals": _("No open key-class appeal."),
        "noOffers": _("No open offer."), "noProjects": _("No project yet."),
        "loadFailed": _("The lists could not be loaded."),
        "proposalFailed": _("The proposal could not be loaded."),
        "limit": _("limit %s"), "firstMeeting": _("first meeting %s"),
        "onTime": _("negotiated in time"), "late": _("negotiated late"),
        "pending": _("waiting for a meeting"), "untimed": _("no limit"),
        "linkedTo": _("proposal %s"), "assessOverdue": _("assessment overdue"),
        "assessDue": _("to be assessed by %s"),
        "overdue": _("overdue"), "due": _("due %s"), "owner": _("Owner: %s"),
        "proposedAt": _("proposed %s"),
        "title": _("Title"), "description": _("Description (optional)"),
        "size": _("Size"), "grid": _("Grid"), "propose": _("Propose"),
        "proposed": _("The proposal is recorded: assess it within five working days."),
        "assessment": _("Assessment"), "accepted": _("accepted: %s"),
        "rejected": _("rejected: %s"), "lateAssessment": _("(late)"),
        "meetings": _("Meetings"), "noMeetings": _("No meeting yet."),
        "attended": _("%s attended"), "minutes": _("Minutes: %s"),
        "decision": _("Decision"), "votes": _("for %(for)s · against %(against)s · "
                                               "abstained %(abstain)s"),
        "publishedUntil": _("on the grid's board until %s"),
        "project": _("Project"), "evaluation": _("Evaluation"),
        "evaluated": _("%(effect)s: %(text)s"), "withdrawn": _("Withdrawn: %s"),
        "closedAt": _("closed %s"), "timeline": _("Timeline"), "linkedAppeals": _("Appeals: %s"),
        "proposeEvent": _("Proposed"),
        "send": _("Send"), "cancel": _("Cancel"), "required": _("This is required."),
        "done": _("Done: %s."), "failed": _("Not done."),
        "offline": _("The server cannot be reached; please try again."),
        "conflict": _("It was changed meanwhile; it has been reloaded."),
        "noActions": _("Nothing to do at this stage."),
        "closeHint": _("Closing needs the effect evaluation first."),
        "confirmClose": _("Close the proposal? Its evaluation is recorded."),
        "appealsHint": _("tracking numbers, separated by spaces"),
        "offersTaken": _("Offers the project takes"),
        "votesHint": _("Votes: give all three or none."),
        "notStaff": _("Proposals are run by community and subdistrict staff: you hold no such "
                      "post."),
        "community": _("Community"),
    }


def _field_labels() -> dict[str, str]:
    # Labels of the action fields as this page words them (the registry's are short and shared).
    return {
        "outcome": _("Outcome"), "reason": _("Reason"),
        "held_at": _("Held at"), "venue": _("Venue"), "place": _("Place (optional)"),
        "residents": _("Residents (居民)"), "owners_committee": _("Owners' committee (业委会)"),
        "property_company": _("Property company (物业)"),
        "community": _("Community staff (社区)"), "units": _("Units (单位)"),
        "minutes": _("Minutes (optional)"),
        "text": _("The decision"), "votes_for": _("Votes for"),
        "votes_against": _("Votes against"), "votes_abstain": _("Abstained"),
        "publish_days": _("Published for (days; default 7)"),
        "owner": _("Who carries it out"), "due_on": _("Due date"),
        "effect": _("Effect"), "evaluation": _("Evaluation"), "project": _("The project"),
        "appeals": _("Appeals"), "note": _("Note (optional)"),
    }


@login_required
def proposals_page(request: HttpRequest) -> HttpResponse:
    communities = staff_communities(request.user)
    return page(request, "maps/m/proposals.html", {
        "may_run": bool(communities),
        "page_data": {
            "communities": communities,
            "strings": _strings(),
            "fieldLabels": _field_labels(),
            "actions": PROPOSAL_ACTIONS.client_data(),
            "stages": _choices(Stage.choices),
            "sizes": _choices(Size.choices),
            "venues": _choices(Venue.choices),
            "assessments": _choices(Assessment.choices),
            "effects": _choices(Effect.choices),
            "projectStatuses": _choices(Project.Status.choices),
            "offerKinds": _choices(Offer.Kind.choices),
            "roles": {"staff": _("community staff"), "admin": _("administrator"),
                      "proposer": _("the proposer"),
                      "micro_unit_leader": _("micro-unit leader"), "resident": _("resident")},
            "path": ["proposed", "assessed", "deliberating", "decided", "implementing",
                     "evaluated", "closed"],
        },
    })
