"""Care figures per grid and month (layers.care.stats, /api/v1/care/stats/): figures computed
by hand on a small town, month boundaries in local time, small-cell suppression by post, scope
and parameter errors.

    micro-grid A: S1 red (approved 2026-02-10), S2 yellow (created 2026-01-05, no proposal),
                  S3 blue (approved 2026-03-15), S4 blue (exited 2026-03-20),
                  S5 red (proposed, never approved), S7 blue (approved 2026-04-10)
    micro-grid B: S6 yellow (created 2026-01-01)
    micro-grid C: nobody
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from geogrid.models import Post
from layers.care.models import CareProposal, CareSubject, Visit, VisitDue
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, ZONE, A, B, C, box, make_city
from tests.layers.people.factories import make_building, make_dwelling, make_household

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/care/stats/"


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SH)


class Town:
    def __init__(self) -> None:
        self.grids = make_city(with_staff=False)
        self.gw = make_user("grid_worker")
        assign(self.gw, self.grids[A], Post.GRID_WORKER)
        self.staff = make_user()
        assign(self.staff, self.grids[COMMUNITY], Post.COMMUNITY_STAFF)
        self.dispatcher = make_user("dispatcher")
        assign(self.dispatcher, self.grids[DISTRICT], Post.DISPATCHER)
        y = make_grid("350428", boundary=box(117.83, 26.38, 117.88, 26.42), name="区Y")
        self.dispatcher_y = make_user("dispatcher")
        assign(self.dispatcher_y, y, Post.DISPATCHER)
        self.root = make_user(is_superuser=True, is_staff=True)
        self.persons = {code: iter(make_household(make_dwelling(
            make_building(self.grids[code], x, 26.405, number=code[-1]), "101"), 8)
            .residences.order_by("id")) for code, x in ((A, 117.795), (B, 117.805))}
        self.s: dict[str, CareSubject] = {}

    def subject(self, key: str, grid: str, colour: str, *, created: dt.datetime,
                approved: dt.datetime | None = None, status: str = "active",
                exited: dt.datetime | None = None) -> CareSubject:
        person = next(self.persons[grid]).person
        s = CareSubject.objects.create(person=person, colour=colour, colour_reason="test",
                                       status=status, created_at=created, exited_at=exited)
        if approved or status == "proposed":
            CareProposal.objects.create(
                subject=s, kind="enrol", colour=colour, reason="test", proposed_by=self.gw,
                proposed_at=created, outcome="approved" if approved else "pending",
                decided_by=self.staff if approved else None, decided_at=approved)
        self.s[key] = s
        return s

    def visit(self, key: str, kind: str, when: dt.datetime, *, mode: str = "home",
              counts: bool = True) -> Visit:
        return Visit.objects.create(
            subject=self.s[key], recorded_by=self.gw, visitor_role="grid_worker", kind=kind,
            mode=mode, started_at=when, ended_at=when + dt.timedelta(minutes=20), living="ok",
            safety="ok", family_care="ok", services="ok", counts=counts)

    def due(self, key: str, kind: str, due: dt.datetime, *, met: dt.datetime | None = None,
            cancelled: dt.datetime | None = None) -> VisitDue:
        return VisitDue.objects.create(subject=self.s[key], kind=kind, due_at=due, met_at=met,
                                       cancelled_at=cancelled,
                                       trigger="discharge" if kind == "necessary" else "")


@pytest.fixture
def town() -> Town:
    t = Town()
    t.subject("S1", A, "red", created=at(2, 9), approved=at(2, 10))
    t.subject("S2", A, "yellow", created=at(1, 5))
    t.subject("S3", A, "blue", created=at(3, 14), approved=at(3, 15))
    t.subject("S4", A, "blue", created=at(1, 1), status="exited", exited=at(3, 20))
    t.subject("S5", A, "red", created=at(3, 1), status="proposed")
    t.subject("S6", B, "yellow", created=at(1, 1))
    t.subject("S7", A, "blue", created=at(4, 8), approved=at(4, 10))
    t.visit("S1", "key", at(3, 10))
    t.visit("S1", "key", at(3, 26))  # within the last 7 days of March (from 03-25 00:00)
    t.visit("S1", "key", at(4, 20))  # before the last 7 days of April (from 04-24)
    t.visit("S2", "regular", at(3, 2, 0, 30))  # the first minute-ish of March's 30-day window
    t.visit("S2", "anytime", at(4, 1, 0, 30), mode="chat", counts=False)  # UTC: still March
    t.visit("S3", "regular", at(4, 5), mode="chat")  # chat counts for blue
    t.visit("S4", "regular", at(3, 5))
    t.visit("S6", "regular", at(3, 20))
    t.due("S1", "regular", at(3, 17), met=at(3, 19))  # 2 days late
    t.due("S2", "regular", at(3, 31), met=at(3, 31, 9))  # in time
    t.due("S3", "necessary", at(3, 16), met=at(3, 17, 22))  # 1.5 days late
    t.due("S1", "regular", at(3, 24), cancelled=at(3, 20))  # cancelled: not overdue
    t.due("S1", "regular", at(4, 1, 1), met=at(4, 2, 1))  # April in local time, 1 day late
    t.due("S3", "regular", at(4, 30))  # never met: overdue until now
    return t


def get(user, url: str, **params: str):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client.get(url, params)


def rows_by(body: dict) -> dict[tuple[str, str], dict]:
    return {(r["grid"], r["month"]): r for r in body["rows"]}


def test_figures_of_a_grid_worker_computed_by_hand(town):
    before = timezone.now()
    r = get(town.gw, URL, grid=A, by="5", **{"from": "2026-03", "to": "2026-04"})
    after = timezone.now()
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["grid"], body["by"], body["from"], body["to"]) == (A, 5, "2026-03", "2026-04")
    assert body["suppressed_below"] is None  # the grid worker sees the groups on A
    rows = rows_by(body)
    assert set(rows) == {(A, "2026-03"), (A, "2026-04")}

    march = rows[(A, "2026-03")]
    # Active at the end of March: S1, S2, S3 (S4 exited, S5 never approved, S7 later).
    assert march["subjects"] == {"red": 1, "yellow": 1, "blue": 1, "total": 3}
    assert march["visits"] == {"key": 2, "necessary": 0, "anytime": 0, "regular": 2, "total": 4}
    assert march["visited_in_interval"] == 2  # S1 and S2; S3 not visited
    assert march["visit_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert march["overdue"] == 2
    assert march["mean_days_overdue"] == pytest.approx((2 + 1.5) / 2)

    april = rows[(A, "2026-04")]
    assert april["subjects"] == {"red": 1, "yellow": 1, "blue": 2, "total": 4}
    # The anytime visit at 00:30 on 1 April (local time) is April's.
    assert april["visits"] == {"key": 1, "necessary": 0, "anytime": 1, "regular": 1, "total": 3}
    assert april["visited_in_interval"] == 1  # only S3; S2's anytime chat does not count
    assert april["visit_rate"] == 0.25
    assert april["overdue"] == 2
    unmet = [(t - at(4, 30)).total_seconds() / 86400 for t in (before, after)]
    assert (1 + unmet[0]) / 2 - 0.01 <= april["mean_days_overdue"] <= (1 + unmet[1]) / 2 + 0.01

    totals = body["totals"]
    assert totals["visits"] == {"key": 3, "necessary": 0, "anytime": 1, "regular": 3, "total": 7}
    assert totals["overdue"] == 4
    assert totals["subjects"]["total"] == 4  # at the end of the period


def test_rows_by_micro_grid_and_zone(town):
    r = get(town.staff, URL, grid=COMMUNITY, by="5", **{"from": "2026-03", "to": "2026-03"})
    assert r.status_code == 200, r.content
    rows = rows_by(r.json())
    assert set(rows) == {(A, "2026-03"), (B, "2026-03"), (C, "2026-03")}
    assert rows[(B, "2026-03")]["subjects"]["total"] == 1
    assert rows[(B, "2026-03")]["visit_rate"] == 1.0
    assert rows[(C, "2026-03")]["subjects"]["total"] == 0
    assert rows[(C, "2026-03")]["visit_rate"] is None  # no subject: no rate
    zone = get(town.staff, URL, grid=COMMUNITY, by="4", **{"from": "2026-03", "to": "2026-03"})
    (row,) = zone.json()["rows"]
    assert row["grid"] == ZONE
    assert row["subjects"]["total"] == 4 and row["visits"]["total"] == 5


def test_dispatcher_sees_small_cells_suppressed(town):
    r = get(town.dispatcher, URL, grid=COMMUNITY, by="5", **{"from": "2026-03", "to": "2026-04"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["suppressed_below"] == 5
    march = rows_by(body)[(A, "2026-03")]
    assert march["subjects"] == {"red": None, "yellow": None, "blue": None, "total": None}
    assert march["visits"]["total"] is None
    assert march["visit_rate"] is None and march["mean_days_overdue"] is None
    # Cells of 5 or more are shown: 8 visits over the period in the community.
    assert body["totals"]["visits"]["total"] == 8
    assert body["totals"]["visits"]["key"] is None


def test_layer_is_geojson_of_the_grids(town):
    r = get(town.dispatcher, URL + "layer/", grid=ZONE, by="5", month="2026-03")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["suppressed_below"] == 5
    features = {f["properties"]["grid"]: f for f in body["features"]}
    assert set(features) == {A, B, C}
    assert features[A]["geometry"]["type"] == "MultiPolygon"
    assert features[A]["properties"]["subjects"]["total"] is None
    mine = get(town.gw, URL + "layer/", grid=A, by="5", month="2026-03").json()
    assert mine["suppressed_below"] is None
    assert mine["features"][0]["properties"]["subjects"]["total"] == 3


def test_scope(town):
    span = {"from": "2026-03", "to": "2026-03"}
    assert get(None, URL, grid=A, **span).status_code == 403
    assert get(None, URL + "layer/", grid=A).status_code == 403
    for user, grid in ((town.gw, COMMUNITY), (town.gw, B), (town.dispatcher_y, A),
                       (make_user(), A)):
        r = get(user, URL, grid=grid, **span)
        assert r.status_code == 404, (grid, r.content)
        assert r.json()["code"] == "not_found"
        assert get(user, URL + "layer/", grid=grid).status_code == 404
    assert get(town.root, URL, grid=DISTRICT, **span).status_code == 200


@pytest.mark.parametrize("params", [
    {"grid": A, "from": "2026-13"}, {"grid": A, "to": "2026-3"}, {"grid": A, "to": "1800-01"},
    {"grid": A, "from": "2026-05", "to": "2026-04"}, {"grid": A, "by": "2"},
    {"grid": A, "by": "6"}, {"grid": COMMUNITY, "by": "2"}, {"grid": A, "by": "4"},
    {"grid": "35x"}, {"grid": "999999"}, {}, {"grid": A + "\x00"}, {"grid": A, "to": "2026\x00"},
    {"grid": A, "from": "2020-01", "to": "2026-01"},
])
def test_bad_parameters_answer_400(town, params):
    r = get(town.root, URL, **params)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "invalid" and body["fields"]


def test_bad_month_on_the_layer(town):
    assert get(town.root, URL + "layer/", grid=A, month="March").status_code == 400
