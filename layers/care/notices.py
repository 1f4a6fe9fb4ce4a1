"""Who is told what about care, through the app's notifications (layers.appeals.notifications:
rows in the app, then the configured backend after commit).

A notification names the subject by its number and the due time only — never the person's
name or group — because a backend may send it as an SMS or e-mail.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from geogrid.capabilities import POST_CAPABILITIES, Capability
from geogrid.models import Post, StaffAssignment
from layers.appeals.notifications import grid_staff, local_time, notify, register_kind
from layers.care.models import CareProposal, CareVisitor, VisitDue

# The grid worker "on it": the handling posts of the subject's own micro-grid.
GRID_POSTS = (Post.GRID_WORKER, Post.GRID_LEADER)
CARE_STAFF_POSTS = tuple(p for p, caps in POST_CAPABILITIES.items()
                         if Capability.CARE_SUBTREE in caps)


def care_staff_above(code: str | None) -> list[int]:
    """Community staff and care officers on grid `code` or above it."""
    if not code:
        return []
    return sorted(set(StaffAssignment.objects.current().filter(
        grid__code__in=[code[:n] for n in range(1, len(code) + 1)],
        post__in=list(CARE_STAFF_POSTS), user__is_active=True)
        .values_list("user_id", flat=True)))


def visitors_of(subject_id: int) -> list[int]:
    return sorted(set(CareVisitor.objects.filter(subject_id=subject_id, until__isnull=True,
                                                 user__is_active=True)
                      .values_list("user_id", flat=True)))


def proposal_waiting(proposal: CareProposal, grid_code: str | None) -> int:
    staff = set(care_staff_above(grid_code)) - {proposal.proposed_by_id}
    return notify(staff, None, "care_proposal", subject=proposal.subject_id,
                  proposal=proposal.pk, proposal_kind=proposal.kind)


def proposal_decided(proposal: CareProposal) -> int:
    return notify([proposal.proposed_by_id], None, "care_decided", subject=proposal.subject_id,
                  proposal=proposal.pk, proposal_kind=proposal.kind, outcome=proposal.outcome)


def necessary_visit(due: VisitDue, grid_code: str | None) -> int:
    grid_workers = grid_staff(grid_code, GRID_POSTS) if grid_code else []
    users = set(visitors_of(due.subject_id)) | set(grid_workers)
    return notify(users, None, "care_necessary", subject=due.subject_id, due=due.due_at.isoformat(),
                  trigger=due.trigger)


def _texts() -> None:
    def subject(data: dict) -> dict:
        return {"subject": data.get("subject", "?"), "due": local_time(data.get("due")),
                "kind": data.get("proposal_kind", ""), "outcome": data.get("outcome", "")}

    register_kind("care_proposal", lambda d: _(
        "Care subject %(subject)s: a proposal (%(kind)s) waits for your decision.") % subject(d))
    register_kind("care_decided", lambda d: _(
        "Care subject %(subject)s: your proposal (%(kind)s) was %(outcome)s.") % subject(d))
    register_kind("care_necessary", lambda d: _(
        "Care subject %(subject)s needs a visit by %(due)s (必要访).") % subject(d))
    register_kind("care_due_soon", lambda d: _(
        "Care subject %(subject)s is due for a visit at %(due)s.") % subject(d))
    register_kind("care_due", lambda d: _(
        "Care subject %(subject)s is due for a visit now (due %(due)s).") % subject(d))
    register_kind("care_overdue", lambda d: _(
        "Care subject %(subject)s was not visited: due %(due)s.") % subject(d))


_texts()
