"""The API: who sees and does what (404 out of sight, 403 in sight without the right), the
public view of a published decision, the three lists, the figures against an independent
recount, and bad input answered in the one error shape."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from layers.deliberation.models import Offer, Proposal, Stage
from layers.volunteering.models import PartnerUnit
from tests.layers.deliberation.factories import (
    GENERAL_CATEGORY,
    MEETING,
    POINT_B,
    act,
    appeal,
    make_world,
    propose,
)
from tests.layers.factories import COMMUNITY, SUB, A, B

pytestmark = pytest.mark.django_db
API = "/api/v1/deliberation"
EVERYONE = ("staff", "office", "staff2", "leader", "resident", "neighbour", "worker",
            "dispatcher", "stranger")


@pytest.fixture
def world():
    return make_world()


def call(world, who: str | None, method: str, url: str, body=None):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if who:
        client.force_login(world.users[who])
    if method == "GET":
        return client.get(url)
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def error_shaped(r) -> bool:
    return {"detail", "code", "fields", "problems"} <= set(r.json())


def live(world, stage: str, *, who: str = "resident", grid: str = A) -> Proposal:
    """A proposal taken to `stage` now (so that a decision is published at the moment)."""
    now = timezone.now()
    p = propose(world, who, grid=grid, when=now - dt.timedelta(hours=5))
    steps = ["assessed", "deliberating", "decided", "implementing", "evaluated", "closed"]
    for i, name in enumerate(steps[:steps.index(stage) + 1] if stage != "proposed" else []):
        moment = now - dt.timedelta(hours=4 - i * 0.5)
        if name == "assessed":
            p = act(world, "assess", p, outcome="accept", reason="同意", at=moment)
        elif name == "deliberating":
            p = act(world, "hold_meeting", p, held_at=moment, at=moment, **MEETING)
        elif name == "decided":
            p = act(world, "decide", p, text="周六统一清理", at=moment)
        elif name == "implementing":
            p = act(world, "start_project", p, owner="物业公司",
                    due_on=timezone.localdate() + dt.timedelta(days=10), at=moment)
        elif name == "evaluated":
            p = act(world, "evaluate", p, effect="effective", evaluation="已清空", at=moment)
        else:
            p = act(world, "close", p, at=moment)
    return p


def test_who_sees_a_proposal_before_its_decision(world):
    p = live(world, "deliberating")
    sees = {"staff": "staff", "office": "staff", "resident": "own"}
    for who in EVERYONE:
        r = call(world, who, "GET", f"{API}/proposals/{p.pk}/")
        if who in sees:
            assert r.status_code == 200 and r.json()["level"] == sees[who], who
        else:
            assert r.status_code == 404 and error_shaped(r), who
    assert call(world, None, "GET", f"{API}/proposals/{p.pk}/").status_code == 403


def test_a_published_decision_is_public_to_its_grid_and_nothing_personal(world):
    p = live(world, "decided")
    for who in ("leader", "worker", "resident"):
        body = call(world, who, "GET", f"{API}/proposals/{p.pk}/").json()
        if who != "resident":
            assert body["level"] == "public", who
            assert "description" not in body and "timeline" not in body
            assert "proposed_role" not in body and "appeals" not in body
            assert all(m["minutes"] is None for m in body["meeting_list"])
            assert body["decision"]["text"] == "周六统一清理"
    for who in ("neighbour", "staff2", "stranger"):  # B's resident: not A's grid
        assert call(world, who, "GET", f"{API}/proposals/{p.pk}/").status_code == 404, who
    listed = call(world, "worker", "GET", f"{API}/proposals/").json()
    assert [x["id"] for x in listed["results"]] == [p.pk]
    # After the publishing window it is gone from the public again.
    p.decision.__class__.objects.filter(pk=p.decision.pk).update(
        publish_until=timezone.now() - dt.timedelta(minutes=1),
        published_from=timezone.now() - dt.timedelta(days=8))
    assert call(world, "worker", "GET", f"{API}/proposals/{p.pk}/").status_code == 404


def test_who_may_take_the_actions(world):
    p = live(world, "proposed")
    url = f"{API}/proposals/{p.pk}/actions/assess/"
    body = {"version": 1, "outcome": "accept", "reason": "同意"}
    for who, status in (("staff2", 404), ("stranger", 404), ("worker", 404),
                        ("resident", 403), (None, 403)):
        r = call(world, who, "POST", url, body)
        assert r.status_code == status and error_shaped(r), who
    assert Proposal.objects.get(pk=p.pk).stage == Stage.PROPOSED
    r = call(world, "staff", "POST", url, body)
    assert r.status_code == 200 and r.json()["stage"] == "assessed"
    r = call(world, "staff", "POST", url, body)  # stale version
    assert r.status_code == 409 and r.json()["current"] == {"stage": "assessed", "version": 2}
    r = call(world, "staff", "POST", f"{API}/proposals/{p.pk}/actions/decide/",
             {"version": 2, "text": "跳过商议"})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = call(world, "resident", "POST", f"{API}/proposals/{p.pk}/actions/withdraw/",
             {"version": 2, "reason": "已解决"})
    assert r.status_code == 200 and r.json()["stage"] == "withdrawn"
    assert call(world, "staff", "POST", f"{API}/proposals/999999/actions/close/",
                {"version": 1}).status_code == 404


def test_proposing_through_the_api(world):
    body = {"grid": A, "title": "加装路灯", "size": "big"}
    for who, status in (("resident", 201), ("leader", 201), ("staff", 201), ("neighbour", 403),
                        ("worker", 403), ("staff2", 403), ("stranger", 403), (None, 403)):
        r = call(world, who, "POST", f"{API}/proposals/", body)
        assert r.status_code == status, (who, r.content)
    created = call(world, "resident", "POST", f"{API}/proposals/", body).json()
    assert created["level"] == "own" and created["actions"] == ["withdraw"]
    assert created["appeals"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"grid": A, "title": "x" * 101, "size": "big"}, "title"),
    ({"grid": A, "title": "路灯\x00", "size": "big"}, "title"),
    ({"grid": A, "title": 7, "size": "big"}, "title"),
    ({"grid": A, "title": "路灯", "size": "huge"}, "size"),
    ({"grid": A, "title": "路灯", "size": "big", "appeals": ["x"] * 51}, "appeals"),
    ({"grid": "9" * 40, "title": "路灯", "size": "big"}, "grid"),
])
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(world, body, field):
    r = call(world, "staff", "POST", f"{API}/proposals/", body)
    assert r.status_code == 400 and field in r.json()["fields"], r.content
    assert not Proposal.objects.exists()


def test_a_meeting_body_with_nan_or_huge_counts_is_a_400(world):
    p = live(world, "assessed", who="staff")
    url = f"{API}/proposals/{p.pk}/actions/hold_meeting/"
    base = {"version": 2, "held_at": timezone.now().isoformat(), "venue": "hall"}
    for extra, field in (({"residents": "NaN"}, "residents"),
                         ({"residents": 10**12}, "residents"),
                         ({"held_at": "0001-01-01T00:00:00+14:00"}, "held_at"),
                         ({"venue": "pub"}, "venue")):
        r = call(world, "staff", "POST", url, {**base, "residents": 3, **extra})
        assert r.status_code == 400 and field in r.json()["fields"], (extra, r.content)
    assert Proposal.objects.get(pk=p.pk).stage == Stage.ASSESSED


def test_the_three_lists(world):
    open_p = live(world, "deliberating", who="staff")
    done = live(world, "closed", who="staff", grid=B)
    live(world, "implementing", who="staff")
    key = appeal(point=POINT_B, due_at=timezone.now() + dt.timedelta(days=2))
    appeal(GENERAL_CATEGORY, point=POINT_B)  # not key class: not a need
    appeal(point=POINT_B, status="closed")  # closed: not a need
    act(world, "link_appeals", open_p, appeals=[key.tracking])
    unit = PartnerUnit.objects.create(name="县供电公司", kind="business",
                                      community=world.grids[COMMUNITY])
    offer = Offer.objects.create(community=world.grids[COMMUNITY], kind="partner_unit",
                                 partner_unit=unit, resource="一辆清运车",
                                 recorded_by=world.users["staff"])
    Offer.objects.create(community=world.grids[COMMUNITY], kind="partner_unit",
                         partner_unit=unit, resource="旧的", status="withdrawn",
                         recorded_by=world.users["staff"])

    needs = call(world, "staff", "GET", f"{API}/needs/?grid={COMMUNITY}").json()
    open_ids = set(Proposal.objects.filter(status="open").values_list("id", flat=True))
    assert {x["id"] for x in needs["proposals"]} == open_ids and done.pk not in open_ids
    assert [(a["tracking"], a["proposals"], a["on_time"]) for a in needs["key_appeals"]] == [
        (key.tracking, [open_p.pk], True)]  # its proposal met before the limit
    b_needs = call(world, "staff", "GET", f"{API}/needs/?grid={B}").json()
    assert b_needs["proposals"] == [] and len(b_needs["key_appeals"]) == 1

    offers = call(world, "staff", "GET", f"{API}/offers/?grid={A}").json()["offers"]
    assert [o["id"] for o in offers] == [offer.pk] and offers[0]["offered_by"] == "县供电公司"

    projects = call(world, "office", "GET", f"{API}/projects/?grid={COMMUNITY}").json()
    assert sorted((p["owner"], p["status"]) for p in projects["projects"]) == [
        ("物业公司", "done"), ("物业公司", "running")]

    for who in ("resident", "leader", "worker", "dispatcher", "staff2"):
        for name in ("needs", "offers", "projects"):
            r = call(world, who, "GET", f"{API}/{name}/?grid={COMMUNITY}")
            assert r.status_code == 403 and error_shaped(r), (who, name)
    assert call(world, "staff", "GET", f"{API}/needs/?grid={SUB}").status_code == 403
    assert call(world, "office", "GET", f"{API}/needs/?grid={SUB}").status_code == 200
    assert call(world, "staff", "GET", f"{API}/needs/").status_code == 400


def test_the_figures_reproduce_an_independent_count(world):
    made = [live(world, stage, who="staff", grid=grid) for stage, grid in (
        ("proposed", A), ("deliberating", A), ("decided", B), ("closed", A), ("closed", B))]
    rejected = live(world, "proposed", who="staff")
    act(world, "assess", rejected, outcome="reject", reason="不属于议事范围")
    extra = Proposal.objects.get(pk=made[1].pk)
    act(world, "hold_meeting", extra, held_at=timezone.now(), venue="online", residents=40,
        units=3)
    key = appeal(due_at=timezone.now() - dt.timedelta(days=30))  # late: met after its limit
    act(world, "link_appeals", extra, appeals=[key.tracking])

    body = call(world, "dispatcher", "GET", f"{API}/figures/?grid={SUB}").json()
    [row] = body["communities"]
    proposals = list(Proposal.objects.all())
    meetings = [m for p in proposals for m in p.meetings.all()]
    firsts = [(min(m.held_at for m in p.meetings.all()) - p.proposed_at).total_seconds()
              for p in proposals if p.meetings.exists()]
    assert row["proposals"] == len(proposals) == 6
    assert row["by_stage"] == {s: sum(p.stage == s for p in proposals) for s in Stage.values}
    assert row["open"] == sum(p.status == "open" for p in proposals) == 3
    assert row["meetings"] == len(meetings) == 5
    assert row["participants"] == sum(m.attendance for m in meetings)
    assert row["decisions"] == sum(hasattr(p, "decision") for p in proposals) == 3
    assert row["projects_done"] == 2
    assert row["mean_days_to_first_meeting"] == round(sum(firsts) / len(firsts) / 86400, 2)
    assert row["key_appeals"]["linked"] == 1 and row["key_appeals"]["late"] == 1
    assert body["key_appeals"] == row["key_appeals"]

    for who, status in (("staff", 200), ("office", 200), ("dispatcher", 200), ("staff2", 403),
                        ("resident", 403), ("worker", 403), (None, 403)):
        assert call(world, who, "GET", f"{API}/figures/?grid={COMMUNITY}").status_code == \
            status, who
    assert call(world, "staff", "GET", f"{API}/figures/?grid={COMMUNITY}&start=2030-01-01"
                ).status_code == 400


def test_meetings_of_a_proposal(world):
    p = live(world, "deliberating")
    r = call(world, "resident", "GET", f"{API}/proposals/{p.pk}/meetings/")
    assert r.status_code == 200
    [m] = r.json()["meetings"]
    assert m["total"] == 24 and m["minutes"] == MEETING["minutes"]
    assert call(world, "neighbour", "GET", f"{API}/proposals/{p.pk}/meetings/"
                ).status_code == 404
