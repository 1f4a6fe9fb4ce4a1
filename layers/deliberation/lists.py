"""嵩阳's three lists, as views of the deliberation tables and the appeals (read-only):

- 需求 needs: the open proposals under the grid, and its open key-class appeals — each with
  the proposals it is linked to and the key-class rule's state (layers.deliberation.figures);
- 认领 offers: the open offers of the grid's community (or the communities under it);
- 项目 projects: the projects of the grid's proposals, with owner, due date and state.

A grid is named by its code; its "under" is the code prefix (a community's lists cover its
zones and micro-grids; a grid below a community sees the offers of its community).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

from layers.appeals.models import OPEN_STATUSES, Appeal
from layers.deliberation.figures import grid_q, key_class, with_key_timeliness
from layers.deliberation.models import OPEN_STAGES, Offer, Project, Proposal

LIST_MAX = 500


def _above(code: str) -> set[str]:
    return {code[:n] for n in range(1, len(code) + 1)}


def open_proposals(code: str) -> QuerySet[Proposal]:
    return (Proposal.objects.filter(grid_q(code), stage__in=OPEN_STAGES)
            .select_related("scope", "community").order_by("proposed_at", "id"))


def open_key_appeals(code: str, at: dt.datetime) -> QuerySet[Appeal]:
    rows = Appeal.objects.filter(category__deadline_class=key_class(),
                                 status__in=OPEN_STATUSES, grid__code__startswith=code)
    return (with_key_timeliness(rows, at).select_related("grid", "category")
            .prefetch_related(Prefetch("proposals", Proposal.objects.only("id")))
            .order_by("reported_at", "id"))


def open_offers(code: str) -> QuerySet[Offer]:
    return (Offer.objects.filter(Q(community__code__startswith=code)
                                 | Q(community__code__in=_above(code)),
                                 status=Offer.Status.OPEN)
            .select_related("community", "partner_unit", "volunteer")
            .order_by("-offered_at", "-id"))


def projects(code: str) -> QuerySet[Project]:
    return (Project.objects.filter(grid_q(code, "proposal__"))
            .select_related("proposal", "proposal__scope").order_by("due_on", "id"))
