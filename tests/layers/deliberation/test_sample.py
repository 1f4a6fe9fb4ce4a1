"""The sample city's year of proposals (fixtures.load_deliberation), loaded with the small city:
the report counts the tables, every stage is there, the figures and the key-class rule reproduce
counts made here from the rows, and every row keeps what the database and the services keep."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from fixtures.load import LoadParams, load_city
from layers.deliberation import figures
from layers.deliberation.models import (
    Decision,
    Meeting,
    Offer,
    Project,
    Proposal,
    ProposalAppeal,
    ProposalEvent,
    Stage,
)

pytestmark = pytest.mark.django_db


def test_the_sample_year_of_proposals(small_city_dir: Path):
    report = load_city(LoadParams(directory=small_city_dir, progress=False, people=False,
                                  participation=False))
    now = timezone.now()
    loaded = report.deliberation
    assert loaded["proposals"] == Proposal.objects.count() > 0
    for name, model in (("links", ProposalAppeal), ("meetings", Meeting),
                        ("decisions", Decision), ("projects", Project), ("offers", Offer),
                        ("events", ProposalEvent)):
        assert loaded[name] == model.objects.count(), name
    proposals = list(Proposal.objects.all())
    stages = Counter(p.stage for p in proposals)
    assert set(stages) == set(Stage.values)
    assert {k: int(v) for k, v in loaded.items() if k.startswith("stage_")} == {
        f"stage_{s}": stages[s] for s in Stage.values}
    sources = {p.source for p in proposals}
    assert {"micro_unit_leader", "resident", "staff", "appeals"} <= sources  # wish: with people
    assert any(line.split()[:2] == ["proposals", str(loaded["proposals"])]
               for line in report.lines())

    # The timeline as the services write it: one row per action, the version counts them,
    # stages chain from "" to the proposal's stage, in time order.
    for p in proposals:
        events = list(p.events.order_by("at", "id"))
        assert events[0].kind == "propose" and events[0].from_stage == ""
        assert [e.from_stage for e in events[1:]] == [e.to_stage for e in events[:-1]]
        assert events[-1].to_stage == p.stage and p.version == len(events)
        assert all(e.at < now for e in events)
        meetings = list(p.meetings.all())
        assert all(p.proposed_at <= m.held_at <= m.recorded_at for m in meetings)
        assert all(m.attendance > 0 for m in meetings)
        if p.stage in (Stage.DELIBERATING, Stage.DECIDED, Stage.IMPLEMENTING, Stage.EVALUATED,
                       Stage.CLOSED):
            assert meetings and p.deliberating_at == min(m.recorded_at for m in meetings)
        if p.stage in (Stage.EVALUATED, Stage.CLOSED):
            assert p.project.ended_at == p.evaluated_at and p.project.status != "running"
        if p.stage == Stage.IMPLEMENTING:
            assert p.project.status == "running"
    assert Decision.objects.filter(published_from__lte=now, publish_until__gt=now).exists()
    for offer in Offer.objects.filter(status="taken"):
        assert offer.offered_at < offer.proposal.implementing_at

    # The figures reproduce counts made from the rows.
    start, end = now - dt.timedelta(days=800), now + dt.timedelta(days=1)
    for district in {p.district_code for p in proposals}:
        f = figures.figures(district, start, end, now)
        mine = [p for p in proposals if p.district_code == district]
        assert sum(c["proposals"] for c in f["communities"]) == len(mine)
        for c in f["communities"]:
            rows = [p for p in mine if p.community.code == c["community"]]
            assert c["proposals"] == len(rows)
            assert c["by_stage"] == {s: sum(p.stage == s for p in rows) for s in Stage.values}
            held = [m for p in rows for m in p.meetings.all()]
            assert c["meetings"] == len(held)
            assert c["participants"] == sum(m.attendance for m in held)
            assert c["decisions"] == sum(hasattr(p, "decision") for p in rows)
            assert c["projects_done"] == Project.objects.filter(
                proposal__in=rows, status="done").count()
            assert c["assessed_late"] == sum(
                (p.assessed_at or now) > p.assess_due_at if p.assessed_at or p.stage == "proposed"
                else False for p in rows)

        # The key-class rule, counted here: first meeting vs the appeal's limit.
        on_time = late = 0
        for link in ProposalAppeal.objects.filter(proposal__district_code=district,
                                                  appeal__category__deadline_class=settings
                                                  .GEOGRID["DELIBERATION"]["KEY_CLASS"]):
            limit = link.appeal.due_at or link.fallback_limit_at
            first = link.proposal.meetings.order_by("held_at").first()
            if first is not None:
                on_time += first.held_at <= limit
                late += first.held_at > limit
            elif limit < now:
                late += 1
        assert (f["key_appeals"]["on_time"], f["key_appeals"]["late"]) == (on_time, late)
    assert (loaded["key_on_time"], loaded["key_late"]) == (on_time, late)
    assert on_time > 0 and late > 0
