"""Deliberation figures and the key-class rule (docs/deliberation.md, "Figures").

The key-class rule (侯家塘: key issues are *negotiated* within 5 working days): an appeal of the
key class (Category.deadline_class = GEOGRID["DELIBERATION"]["KEY_CLASS"]) linked to a proposal
is on time when the first meeting held on a proposal it is linked to is held within the
appeal's limit:

    first_meeting_at  = min(Meeting.held_at) over the proposals it is linked to, held by `at`
    limit_at          = the appeal's due_at, or — without one (imported history) — the limit
                        computed from its dispatch when it was linked
                        (ProposalAppeal.fallback_limit_at)
    on time           first_meeting_at ≤ limit_at
    late              first_meeting_at > limit_at, or no meeting yet and limit_at < at
    pending           no meeting yet and the limit not passed at `at`
    untimed           no limit at all (never dispatched): left out of the rate, as the appeals
                      statistics leave out appeals without a deadline

`with_key_timeliness(appeals, at)` is that rule as annotations on an Appeal queryset (two
correlated subqueries and a CASE, in PostgreSQL); `key_appeals_on_time(code, at=…)` counts it
for a grid. The appeals layer's on-time rate (layers.appeals.stats / rates, the map layers and
the analytics fact table) still counts `Appeal.on_time` (resolved_at ≤ due_at) for these
appeals too: see docs/deliberation.md for where it does not yet use this rule and why.

Per community, over the proposals proposed in [start, end) under the grid asked for:
    proposals, by_stage   how many, and in which stage now
    assessed_late         assessed after their assessment was due (or still unassessed past it)
    meetings, participants  meetings held on them and the people counted at them
    decisions             decisions taken; projects_done  projects carried out
    mean_days_to_first_meeting  calendar days from the proposal to its first meeting
    key_appeals           the key-class rule's counts for the appeals linked to them
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from geogrid.models import Grid
from layers.appeals.models import Appeal
from layers.deliberation.models import (
    ENDED,
    Decision,
    Meeting,
    Project,
    Proposal,
    ProposalAppeal,
    Stage,
)

KEY_COUNTS = ("linked", "timed", "on_time", "late", "pending", "untimed")


def key_class() -> str:
    return str(settings.GEOGRID["DELIBERATION"]["KEY_CLASS"])


def grid_q(code: str, prefix: str = "") -> Q:
    """Proposals under grid `code`: their community lies in it, or their grid does."""
    return (Q(**{f"{prefix}community__code__startswith": code})
            | Q(**{f"{prefix}scope__code__startswith": code}))


def with_key_timeliness(appeals: QuerySet[Appeal], at: dt.datetime) -> QuerySet[Appeal]:
    """`appeals` annotated with first_meeting_at, key_limit_at and key_on_time (True, False,
    or None while pending or untimed) as of `at` — the key-class rule, in SQL."""
    first = (Meeting.objects.filter(proposal__links__appeal=OuterRef("pk"), held_at__lte=at)
             .order_by("held_at").values("held_at")[:1])
    fallback = (ProposalAppeal.objects.filter(appeal=OuterRef("pk"),
                                              fallback_limit_at__isnull=False)
                .order_by("fallback_limit_at").values("fallback_limit_at")[:1])
    return appeals.annotate(
        first_meeting_at=Subquery(first),
        key_limit_at=Coalesce(F("due_at"), Subquery(fallback)),
    ).annotate(key_on_time=Case(
        When(first_meeting_at__isnull=False, key_limit_at__isnull=False,
             then=ExpressionWrapper(Q(first_meeting_at__lte=F("key_limit_at")),
                                    output_field=BooleanField())),
        When(first_meeting_at__isnull=True, key_limit_at__lt=at, then=Value(False)),
        default=Value(None), output_field=BooleanField()))


def linked_key_appeals(proposals: QuerySet[Proposal]) -> QuerySet[Appeal]:
    """Key-class appeals linked to any of `proposals`."""
    return Appeal.objects.filter(
        category__deadline_class=key_class(),
        pk__in=ProposalAppeal.objects.filter(proposal__in=proposals).values("appeal_id"))


def key_counts(appeals: QuerySet[Appeal], at: dt.datetime) -> dict[str, Any]:
    row = with_key_timeliness(appeals, at).aggregate(
        linked=Count("id"),
        timed=Count("id", filter=Q(key_limit_at__isnull=False)),
        on_time=Count("id", filter=Q(key_on_time=True)),
        late=Count("id", filter=Q(key_on_time=False)),
        pending=Count("id", filter=Q(key_on_time__isnull=True, key_limit_at__isnull=False)),
        untimed=Count("id", filter=Q(key_limit_at__isnull=True)))
    decided = row["on_time"] + row["late"]
    return {**{k: int(row[k]) for k in KEY_COUNTS},
            "on_time_rate": round(row["on_time"] / decided, 4) if decided else None}


def key_appeals_on_time(code: str, *, at: dt.datetime, start: dt.datetime | None = None,
                        end: dt.datetime | None = None) -> dict[str, Any]:
    """The key-class rule counted for the appeals linked to proposals under grid `code`
    (proposed in [start, end) when given), as of `at`."""
    return key_counts(linked_key_appeals(_proposals(code, start, end)), at)


def _proposals(code: str, start: dt.datetime | None,
               end: dt.datetime | None) -> QuerySet[Proposal]:
    rows = Proposal.objects.filter(grid_q(code))
    if start is not None:
        rows = rows.filter(proposed_at__gte=start)
    if end is not None:
        rows = rows.filter(proposed_at__lt=end)
    return rows


def figures(code: str, start: dt.datetime, end: dt.datetime, at: dt.datetime) -> dict:
    """Per community under grid `code`: the counts above over proposals proposed in
    [start, end), as of `at` (meetings held by then, lateness judged then)."""
    proposals = _proposals(code, start, end)
    first = (Meeting.objects.filter(proposal=OuterRef("pk"), held_at__lte=at)
             .order_by("held_at").values("held_at")[:1])
    rows = (proposals.annotate(first_meeting=Subquery(first))
            .values("community__code", "community__name")
            .annotate(
                proposals=Count("id"),
                assessed_late=Count("id", filter=Q(assessed_at__gt=F("assess_due_at"))
                                    | Q(assessed_at__isnull=True, assess_due_at__lt=at,
                                        stage=Stage.PROPOSED)),
                to_first=Avg(ExpressionWrapper(F("first_meeting") - F("proposed_at"),
                                               output_field=DurationField())),
                **{f"stage_{s}": Count("id", filter=Q(stage=s)) for s in Stage.values})
            .order_by("community__code"))
    meetings = {r["proposal__community__code"]: r for r in (
        Meeting.objects.filter(proposal__in=proposals, held_at__lte=at)
        .values("proposal__community__code")
        .annotate(n=Count("id"), people=Sum(F("residents") + F("owners_committee")
                                            + F("property_company") + F("community")
                                            + F("units"))))}
    decisions = dict(Decision.objects.filter(proposal__in=proposals, published_from__lte=at)
                     .values("proposal__community__code").annotate(n=Count("id"))
                     .values_list("proposal__community__code", "n"))
    done = dict(Project.objects.filter(proposal__in=proposals, status=Project.Status.DONE,
                                       ended_at__lte=at)
                .values("proposal__community__code").annotate(n=Count("id"))
                .values_list("proposal__community__code", "n"))
    out = []
    for r in rows:
        com = r["community__code"]
        m = meetings.get(com, {})
        to_first = r["to_first"]
        out.append({
            "community": com, "name": r["community__name"], "proposals": r["proposals"],
            "open": sum(r[f"stage_{s}"] for s in Stage.values if s not in ENDED),
            "by_stage": {s: r[f"stage_{s}"] for s in Stage.values},
            "assessed_late": r["assessed_late"],
            "meetings": int(m.get("n", 0)), "participants": int(m.get("people") or 0),
            "decisions": decisions.get(com, 0), "projects_done": done.get(com, 0),
            "mean_days_to_first_meeting": (round(to_first.total_seconds() / 86400, 2)
                                           if to_first is not None else None),
            "key_appeals": key_counts(linked_key_appeals(proposals.filter(
                community__code=com)), at),
        })
    grid = Grid.objects.current().filter(code=code).values_list("name", flat=True).first()
    return {"grid": code, "name": grid or "", "from": start.isoformat(),
            "to": end.isoformat(), "at": at.isoformat(), "communities": out,
            "key_appeals": key_counts(linked_key_appeals(proposals), at)}
