"""The 四清 ledger (layers.people.ledger) and its API (layers.people.ledger_views).

A hand-built fixture on the layers test city, dated relative to D (today):

    micro-grid A, building a1
      unit U1 (leader `mul`)   dwellings 101 (occupancy verified D-10), 102 (D-180), 201 (D-181),
                               202 (never)
                               households h101 active, profile D-5, 独居, issue open since D-40
                                          h102 active, no profile check, 高龄, issue open since
                                               D-40 but with an appeal
                                          h201 active, profile D-200, issue open since D-29 and
                                               one resolved
                                          h202 moved out, profile D-1, 独居
      unit U2                  dwelling 301 (verified D-1), no household
      no unit                  dwelling 501 → household h501 (留守): counted, not in the ledger
    micro-grid B, building b1
      unit U3                  dwelling 401 (never) → household h401, profile D, 空巢
    micro-grid C: nothing

Changes of U1 (days are reported → verified): c1 move_in h101 D-20 → D-15 (in time), c2
contact h102 D-20 → D-5 (late), c3 usage d201 D-12 (unverified, due), c4 move_out h202 D-3
(pending, not due), c5 birth h101 D-2 → D-1, c9 tags on the unit itself D-30 → D-30; not
counted: occupancy_checked, profile_checked, grid_changed, member_added at D-100 (outside the
90-day window). U3: h401 contact D-5, verified D+1 (after as_of: pending).

Hand count at D (N = 180/180/10/30, window 90):
    U1  occupancy 2/4  profile 1/3  changes 3/5 (pending 1, overdue 1)  issues 2/3
    U2  occupancy 1/1  profile —    changes —                           issues —
    U3  occupancy 0/1  profile 1/1  changes — (pending 1)               issues 1/1
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from geogrid.models import AccessLog, Post
from layers.appeals.intake import AppealInput, submit_appeal
from layers.people import identity, ledger
from layers.people.models import (
    ChangeEvent,
    ChangeVerification,
    Household,
    HouseholdIssue,
    MicroUnitLeaderTerm,
    Person,
    Residence,
)
from tests.factories import assign, make_user
from tests.layers.factories import COMMUNITY, DISTRICT, SUB, ZONE, A, B, C, make_city
from tests.layers.people.factories import (
    make_building,
    make_dwelling,
    make_household,
    make_micro_unit,
)

pytestmark = pytest.mark.django_db

DAYS = {"occupancy": 180, "profile": 180, "changes": 10, "issues": 30, "changes_window": 90}
Kind = ChangeEvent.Kind


@pytest.fixture(autouse=True)
def _ledger_days(settings):
    settings.GEOGRID = {**settings.GEOGRID, "LEDGER_DAYS": dict(DAYS),
                        "FOCUS_TAGS": ("独居", "空巢", "高龄", "失能失智", "残疾", "孕产")}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return ledger.start_of(day) + dt.timedelta(hours=hour)


@dataclass
class Place:
    D: dt.date
    grids: dict
    units: dict = field(default_factory=dict)
    dwellings: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)


def build(D: dt.date) -> Place:
    grids = make_city(with_staff=False)
    p = Place(D, grids)
    ago = lambda n: at(D - dt.timedelta(days=n))  # noqa: E731
    u = p.users
    u["mul"] = make_user("grid_worker", username="mul")
    assign(u["mul"], grids[A], Post.MICRO_UNIT_LEADER)
    a1 = make_building(grids[A], 117.795, 26.395, number="1", households=40)
    b1 = make_building(grids[B], 117.805, 26.405, estate="桂坞家园", number="1", households=30)
    U1 = p.units["U1"] = make_micro_unit(grids[A], "001", name="洋坊新村1幢1单元",
                                         leader=u["mul"])
    U2 = p.units["U2"] = make_micro_unit(grids[A], "002", name="洋坊新村1幢3单元")
    U3 = p.units["U3"] = make_micro_unit(grids[B], "001", name="桂坞家园1幢")
    d = p.dwellings
    d["101"] = make_dwelling(a1, "101", micro_unit=U1, occupancy_verified_at=ago(10))
    d["102"] = make_dwelling(a1, "102", micro_unit=U1, occupancy_verified_at=ago(180))
    d["201"] = make_dwelling(a1, "201", micro_unit=U1, occupancy_verified_at=ago(181))
    d["202"] = make_dwelling(a1, "202", micro_unit=U1)
    d["301"] = make_dwelling(a1, "301", unit_no=3, micro_unit=U2, occupancy_verified_at=ago(1))
    d["501"] = make_dwelling(a1, "501", unit_no=5)
    d["401"] = make_dwelling(b1, "401", micro_unit=U3)
    h = p.households
    h["h101"] = make_household(d["101"], 1, tags=["独居"], profile_verified_at=ago(5))
    h["h102"] = make_household(d["102"], 3, tags=["高龄", "留守"])
    h["h201"] = make_household(d["201"], 2, profile_verified_at=ago(200))
    h["h202"] = make_household(d["202"], 2, tags=["独居"], profile_verified_at=ago(1),
                               status=Household.Status.MOVED_OUT, ended_on=D)
    h["h501"] = make_household(d["501"], 2, tags=["留守"])
    h["h401"] = make_household(d["401"], 2, tags=["空巢"], profile_verified_at=ago(0))
    # One of h102's three is registered here but lives elsewhere: not a resident.
    absent = Residence.objects.filter(household=h["h102"], relation="child").order_by("id")[0]
    absent.presence = Residence.Presence.ABSENT
    absent.save(update_fields=["presence"])

    appeal = submit_appeal(AppealInput(category="E0102", lon=117.795, lat=26.395),
                           actor=AnonymousUser()).appeal
    HouseholdIssue.objects.create(household=h["h101"], text="漏水", raised_at=ago(40))
    HouseholdIssue.objects.create(household=h["h102"], text="路灯", raised_at=ago(40),
                                  appeal=appeal)
    HouseholdIssue.objects.create(household=h["h201"], text="噪音", raised_at=ago(29))
    HouseholdIssue.objects.create(household=h["h201"], text="旧事", raised_at=ago(100),
                                  status=HouseholdIssue.Status.RESOLVED, resolved_at=ago(90))

    def change(kind: str, reported: int, verified: int | None = None, **subject: Any) -> None:
        c = ChangeEvent.objects.create(kind=kind, effective_date=D, source="door",
                                       reported_at=ago(reported), **subject)
        if verified is not None:
            ChangeVerification.objects.create(change=c, outcome="confirmed",
                                              verified_at=ago(verified))

    change(Kind.MOVE_IN, 20, 15, household=h["h101"])
    change(Kind.CONTACT_CHANGED, 20, 5, household=h["h102"])
    change(Kind.USAGE_CHANGED, 12, dwelling=d["201"])
    change(Kind.MOVE_OUT, 3, household=h["h202"])
    change(Kind.BIRTH, 2, 1, household=h["h101"])
    change(Kind.TAGS_CHANGED, 30, 30, micro_unit=U1)
    change(Kind.OCCUPANCY_CHECKED, 10, dwelling=d["101"])
    change(Kind.PROFILE_CHECKED, 12, household=h["h101"])
    change(Kind.GRID_CHANGED, 15, micro_unit=U1)
    change(Kind.MEMBER_ADDED, 100, household=h["h102"])
    change(Kind.CONTACT_CHANGED, 5, -1, household=h["h401"])
    return p


@pytest.fixture
def place() -> Place:
    return build(timezone.localdate())


def counts(fig: ledger.Figures) -> dict[str, tuple]:
    return {"occupancy": (fig.occupancy.clear, fig.occupancy.of),
            "profile": (fig.profile.clear, fig.profile.of),
            "changes": (fig.changes.clear, fig.changes.of, fig.changes.pending,
                        fig.changes.overdue),
            "issues": (fig.issues.clear, fig.issues.of)}


HAND = {
    "U1": {"occupancy": (2, 4), "profile": (1, 3), "changes": (3, 5, 1, 1), "issues": (2, 3)},
    "U2": {"occupancy": (1, 1), "profile": (0, 0), "changes": (0, 0, 0, 0), "issues": (0, 0)},
    "U3": {"occupancy": (0, 1), "profile": (1, 1), "changes": (0, 0, 1, 0), "issues": (1, 1)},
}


# --- the figures --------------------------------------------------------------------------------
def test_each_unit_equals_the_hand_count(place):
    for name, want in HAND.items():
        fig = ledger.unit_figures(place.units[name], place.D)
        assert counts(fig) == want, name
    u1 = ledger.unit_figures(place.units["U1"], place.D)
    assert (u1.units, u1.dwellings, u1.households) == (1, 4, 3)
    assert u1.occupancy.share == 0.5 and u1.profile.share == round(1 / 3, 4)
    assert u1.changes.share == 0.6 and u1.issues.share == round(2 / 3, 4)
    assert u1.occupancy.tick is False


def test_no_denominator_is_null_not_100_percent(place):
    u2 = ledger.unit_figures(place.units["U2"], place.D).as_dict()
    assert u2["occupancy"] == {"clear": 1, "of": 1, "share": 1.0, "tick": True}
    for name in ("profile", "issues"):
        assert u2[name] == {"clear": 0, "of": 0, "share": None, "tick": None}
    assert u2["changes"]["share"] is None and u2["changes"]["tick"] is None


def test_figures_drop_as_verifications_age(place):
    U1, U2 = place.units["U1"], place.units["U2"]

    def later(unit, days: int) -> dict:
        return counts(ledger.unit_figures(unit, place.D + dt.timedelta(days=days)))

    # Day 1: dwelling 102 (verified D-180) is 181 days old.
    assert later(U1, 1)["occupancy"] == (1, 4)
    # Day 2: h201's issue (raised D-29) has been open 31 days.
    assert later(U1, 1)["issues"] == (2, 3) and later(U1, 2)["issues"] == (1, 3)
    # Day 8: the move-out reported D-3 is 11 days old and unverified: due, not clear.
    assert later(U1, 7)["changes"] == (3, 5, 1, 1)
    assert later(U1, 8)["changes"] == (3, 6, 0, 2)
    # Day 176: h101's profile (D-5) is 181 days old: no profile is recent any more.
    assert later(U1, 176)["profile"] == (0, 3)
    # U2's tick: verified D-1, gone on day 180.
    assert ledger.unit_figures(U2, place.D + dt.timedelta(days=179)).occupancy.tick is True
    assert ledger.unit_figures(U2, place.D + dt.timedelta(days=180)).occupancy.tick is False
    # Day 71: c9 (reported D-30) is past the 90-day window; c1 and c2 (D-20) on day 71.
    assert later(U1, 61)["changes"][:2] == (2, 5)
    assert later(U1, 71)["changes"][:2] == (1, 3)


def test_a_verification_after_as_of_does_not_count(place):
    # h401's change (D-5) was verified D+1: pending as of D, clear as of D+1.
    assert counts(ledger.unit_figures(place.units["U3"], place.D))["changes"] == (0, 0, 1, 0)
    later = ledger.unit_figures(place.units["U3"], place.D + dt.timedelta(days=1))
    assert counts(later)["changes"] == (1, 1, 0, 0)


def test_settings_change_the_thresholds(place, settings):
    settings.GEOGRID = {**settings.GEOGRID, "LEDGER_DAYS": {**DAYS, "occupancy": 9}}
    assert counts(ledger.unit_figures(place.units["U1"], place.D))["occupancy"] == (0, 4)


def _sum(figures: list[ledger.Figures]) -> dict[str, tuple]:
    out: dict[str, tuple] = {}
    for f in figures:
        for name, values in counts(f).items():
            out[name] = tuple(a + b for a, b in zip(out.get(name, (0,) * len(values)), values,
                                                    strict=True))
    return out


def test_rollup_is_the_sum_of_the_units(place):
    units = {n: ledger.unit_figures(u, place.D) for n, u in place.units.items()}
    grid_a = ledger.grid_ledger(place.grids[A], place.D)
    assert [r.code for r in grid_a.rows] == [place.units["U1"].code, place.units["U2"].code]
    assert {r.kind for r in grid_a.rows} == {"micro_unit"}
    assert counts(grid_a.figures) == _sum([units["U1"], units["U2"]])
    for code in (ZONE, COMMUNITY, SUB, DISTRICT):
        result = ledger.grid_ledger(place.grids[code], place.D)
        assert counts(result.figures) == _sum(list(units.values())), code
        assert result.figures.units == 3 and result.figures.dwellings == 6
        assert result.figures.households == 4
    zone = ledger.grid_ledger(place.grids[ZONE], place.D)
    rows = {r.code: r for r in zone.rows}
    assert list(rows) == [A, B, C] and {r.kind for r in rows.values()} == {"grid"}
    assert counts(rows[A].figures) == _sum([units["U1"], units["U2"]])
    assert counts(rows[B].figures) == _sum([units["U3"]])
    assert rows[C].figures.units == 0 and rows[C].figures.occupancy.share is None
    assert counts(zone.figures) == {"occupancy": (3, 6), "profile": (2, 4),
                                    "changes": (3, 5, 2, 1), "issues": (3, 4)}
    # The benchmark's alternative (one query per child) gives the same figures.
    assert {k: counts(v) for k, v in ledger.rollup_per_grid(place.grids[ZONE], place.D)
            .items()} == {code: counts(r.figures) for code, r in rows.items()}


def test_focus_list_has_the_leaders_fields_and_no_identifiers(place):
    rows = ledger.focus_list(place.units["U1"])
    h = place.households
    assert [r["household"] for r in rows] == [h["h101"].pk, h["h102"].pk]  # h202 moved out
    first = rows[0]
    assert set(first) == {"household", "building", "room", "head_name", "size", "tags",
                          "contact_phone"}
    assert first["room"] == "1单元101室" and first["tags"] == ["独居"]
    assert first["contact_phone"] == "139****1111" and first["size"] == 1
    head = Residence.objects.get(household=h["h101"], relation="head").person
    assert first["head_name"] == head.name
    assert rows[1]["size"] == 3
    assert ledger.focus_list(place.units["U2"]) == []


def test_household_counts_per_grid(place):
    total, rows = ledger.household_counts(place.grids[ZONE], 5)
    by_code = {g.code: c for g, c in rows}
    assert list(by_code) == [A, B, C]
    # A: h101 (1), h102 (3, one absent), h201 (2), h501 (2, no unit); h202 moved out.
    assert by_code[A] == ledger.Counts(households=4, residents=7, focus_households=2)
    assert by_code[B] == ledger.Counts(households=1, residents=2, focus_households=1)
    assert by_code[C] == ledger.Counts()
    assert total == ledger.Counts(households=5, residents=9, focus_households=3)
    total, rows = ledger.household_counts(place.grids[A], 5)
    assert [(g.code, c.households) for g, c in rows] == [(A, 4)]


def test_counts_and_figures_of_a_grid_without_people():
    grids = make_city(with_staff=False)
    total, rows = ledger.household_counts(grids[ZONE], 5)
    assert total == ledger.Counts() and [c for _, c in rows] == [ledger.Counts()] * 3
    result = ledger.grid_ledger(grids[ZONE])
    assert result.figures == ledger.Figures() and len(result.rows) == 3


def test_per_100_households_uses_the_register_with_the_buildings_as_fallback(place):
    from layers.analytics.filters import AppealFilter
    from layers.analytics.heat import grid_stats

    rows = {r["code"]: r for r in grid_stats(AppealFilter(), 5, ZONE)}
    # A has household rows: its 4 active households (not the building's 40); B's 1 likewise.
    assert (rows[A]["households"], rows[A]["households_source"]) == (4, "people")
    assert rows[A]["appeals"] == 1 and rows[A]["per_100_households"] == 25.0
    assert (rows[B]["households"], rows[B]["households_source"]) == (1, "people")
    assert (rows[C]["households"], rows[C]["households_source"]) == (0, "none")
    # A micro-grid without household rows keeps the buildings' figure.
    make_building(place.grids[C], 117.805, 26.395, estate="新村", number="9", households=12)
    rows = {r["code"]: r for r in grid_stats(AppealFilter(), 5, ZONE)}
    assert (rows[C]["households"], rows[C]["households_source"]) == (12, "buildings")
    zone = {r["code"]: r for r in grid_stats(AppealFilter(), 4, COMMUNITY)}[ZONE]
    assert (zone["households"], zone["households_source"]) == (17, "mixed")


# --- the API --------------------------------------------------------------------------------------
@pytest.fixture
def users(place) -> dict:
    g = place.grids
    u = dict(place.users)

    def post(name: str, grid: str, kind: str, *roles: str) -> None:
        u[name] = make_user(*roles, username=name)
        assign(u[name], g[grid], kind)

    post("gw_a", A, Post.GRID_WORKER, "grid_worker")
    post("gw_b", B, Post.GRID_WORKER, "grid_worker")
    post("cs", COMMUNITY, Post.COMMUNITY_STAFF)
    post("dispatcher", DISTRICT, Post.DISPATCHER, "dispatcher")
    post("manager", DISTRICT, Post.MANAGER, "grid_manager")
    u["resident"] = make_user("resident", username="resident")
    u["root"] = make_user(username="root", is_superuser=True)
    # A leader term without a leader post does not open the unit (layers.people.access).
    u["term_only"] = make_user(username="term_only")
    MicroUnitLeaderTerm.objects.create(micro_unit=place.units["U3"], user=u["term_only"],
                                       since=dt.date(2025, 1, 1))
    return u


def get(client, users, who: str | None, url: str):
    client.logout()
    if who:
        client.force_login(users[who])
    return client.get(url)


def error_shaped(response) -> bool:
    return set(response.json()) == {"detail", "code", "fields", "problems"}


COUNTS_SCOPE = {"dispatcher": {A, ZONE}, "manager": {A, ZONE}, "cs": {A, ZONE}, "gw_a": {A},
                "gw_b": set(), "mul": set(), "resident": set(), "root": {A, ZONE},
                "term_only": set()}
LEDGER_SCOPE = {"gw_a": {A}, "cs": {A, ZONE}, "root": {A, ZONE}}


@pytest.mark.parametrize("who", [None, *COUNTS_SCOPE])
def test_counts_and_ledger_by_post_and_scope(client, users, who):
    for code in (A, ZONE):
        r = get(client, users, who, f"/api/v1/people/counts/?grid={code}")
        if who is None:
            assert r.status_code == 403 and r.json()["code"] == "not_authenticated"
        elif code in COUNTS_SCOPE[who]:
            assert r.status_code == 200, (who, code, r.content)
            assert r.json()["grid"]["code"] == code
        else:
            assert r.status_code == 403 and error_shaped(r), (who, code)
        r = get(client, users, who, f"/api/v1/people/ledger/?grid={code}")
        if who is None:
            assert r.status_code == 403 and r.json()["code"] == "not_authenticated"
        elif code in LEDGER_SCOPE.get(who, ()):
            assert r.status_code == 200, (who, code, r.content)
        else:
            assert r.status_code == 403 and error_shaped(r), (who, code)


def test_ledger_answer(client, users, place):
    r = get(client, users, "cs", f"/api/v1/people/ledger/?grid={ZONE}")
    body = r.json()
    assert body["grid"] == {"code": ZONE, "name": "第一片区", "level": 4}
    assert body["as_of"] == place.D.isoformat() and body["days"] == DAYS
    assert body["figures"]["occupancy"] == {"clear": 3, "of": 6, "share": 0.5, "tick": False}
    assert body["figures"]["changes"] == {"clear": 3, "of": 5, "share": 0.6, "tick": False,
                                          "pending": 2, "overdue": 1}
    assert [(x["kind"], x["code"], x["level"], x["id"]) for x in body["rows"]] == [
        ("grid", A, 5, None), ("grid", B, 5, None), ("grid", C, 5, None)]
    assert body["rows"][2]["figures"]["profile"]["share"] is None
    r = get(client, users, "gw_a", f"/api/v1/people/ledger/?grid={A}")
    rows = r.json()["rows"]
    assert [(x["kind"], x["id"]) for x in rows] == [
        ("micro_unit", place.units["U1"].pk), ("micro_unit", place.units["U2"].pk)]
    assert rows[0]["figures"]["issues"] == {"clear": 2, "of": 3, "share": 0.6667, "tick": False}
    later = (place.D + dt.timedelta(days=2)).isoformat()
    r = get(client, users, "gw_a", f"/api/v1/people/ledger/?grid={A}&as_of={later}")
    assert r.json()["rows"][0]["figures"]["issues"]["clear"] == 1
    assert AccessLog.objects.count() == 0  # figures are not personal data


def test_counts_answer(client, users):
    body = get(client, users, "dispatcher", f"/api/v1/people/counts/?grid={ZONE}").json()
    assert body["level"] == 5 and body["totals"] == {"households": 5, "residents": 9,
                                                     "focus_households": 3}
    assert [(x["code"], x["households"]) for x in body["rows"]] == [(A, 4), (B, 1), (C, 0)]
    body = get(client, users, "dispatcher",
               f"/api/v1/people/counts/?grid={SUB}&level=5").json()
    assert body["level"] == 5 and [x["code"] for x in body["rows"]] == [A, B, C]
    body = get(client, users, "dispatcher", f"/api/v1/people/counts/?grid={A}").json()
    assert body["level"] == 5 and [x["code"] for x in body["rows"]] == [A]
    assert AccessLog.objects.count() == 0


def clear_identifiers() -> list[str]:
    out = []
    for p in Person.objects.all():
        out.append(identity.open_value(p.id_cipher, identity.ID_COLUMN))
        out.append(identity.open_value(p.phone_cipher, identity.PHONE_COLUMN))
        out.append(p.id_masked)
    return [v for v in out if v] + ["13900001111"]


# who → (may read U1, the post the log names)
UNIT_READERS = {"mul": "micro_unit_leader", "gw_a": "grid_worker", "cs": "community_staff",
                "root": "superuser"}


@pytest.mark.parametrize("who", [None, *COUNTS_SCOPE])
def test_focus_list_by_post_and_scope_writes_one_log_row(client, users, place, who):
    unit = place.units["U1"]
    secrets = clear_identifiers()
    before = AccessLog.objects.count()
    r = get(client, users, who, f"/api/v1/people/micro-units/{unit.pk}/ledger/")
    assert not any(s in r.content.decode() for s in secrets)
    if who is None:
        assert r.status_code == 403 and r.json()["code"] == "not_authenticated"
    elif who not in UNIT_READERS:
        assert r.status_code == 404 and error_shaped(r), who
    else:
        assert r.status_code == 200, (who, r.content)
        body = r.json()
        h = place.households
        assert [f["household"] for f in body["focus"]] == [h["h101"].pk, h["h102"].pk]
        assert counts_of(body["figures"]) == HAND["U1"]
        assert body["unit"]["grid"]["code"] == A
        log = AccessLog.objects.order_by("-id").first()
        assert AccessLog.objects.count() == before + 1
        assert (log.user, log.post, log.action, log.subject_type, log.subject_ids) == (
            users[who], UNIT_READERS[who], "list", "household",
            sorted([h["h101"].pk, h["h102"].pk]))
        assert log.fields == sorted(ledger.FOCUS_FIELDS)
        return
    assert AccessLog.objects.count() == before


def counts_of(figures: dict) -> dict[str, tuple]:
    c = figures["changes"]
    return {"occupancy": (figures["occupancy"]["clear"], figures["occupancy"]["of"]),
            "profile": (figures["profile"]["clear"], figures["profile"]["of"]),
            "changes": (c["clear"], c["of"], c["pending"], c["overdue"]),
            "issues": (figures["issues"]["clear"], figures["issues"]["of"])}


def test_each_read_of_a_focus_list_is_one_row_even_when_empty(client, users, place):
    for n in range(1, 3):
        r = get(client, users, "gw_a", f"/api/v1/people/micro-units/{place.units['U2'].pk}"
                                       "/ledger/")
        assert r.status_code == 200 and r.json()["focus"] == []
        assert AccessLog.objects.filter(subject_ids=[]).count() == n


def test_a_leader_sees_only_their_own_unit(client, users, place):
    for name in ("U2", "U3"):
        r = get(client, users, "mul", f"/api/v1/people/micro-units/{place.units[name].pk}"
                                      "/ledger/")
        assert r.status_code == 404
    r = get(client, users, "term_only",
            f"/api/v1/people/micro-units/{place.units['U3'].pk}/ledger/")
    assert r.status_code == 404
    for url in ("/api/v1/people/micro-units/999999/ledger/",
                "/api/v1/people/micro-units/99999999999999999999/ledger/",
                "/api/v1/people/micro-units/0/ledger/"):
        r = get(client, users, "root", url)
        assert r.status_code == 404 and error_shaped(r), url
    assert AccessLog.objects.count() == 0


@pytest.mark.parametrize("url, field", [
    ("/api/v1/people/ledger/", "grid"),
    ("/api/v1/people/ledger/?grid=", "grid"),
    ("/api/v1/people/ledger/?grid=abc", "grid"),
    ("/api/v1/people/ledger/?grid=" + "1" * 33, "grid"),
    ("/api/v1/people/ledger/?grid=350427%00", "grid"),
    ("/api/v1/people/ledger/?grid=999999", "grid"),
    ("/api/v1/people/ledger/?grid=350427&as_of=yesterday", "as_of"),
    ("/api/v1/people/ledger/?grid=350427&as_of=2026-02-30", "as_of"),
    ("/api/v1/people/ledger/?grid=350427&as_of=2020-01-01", "as_of"),
    ("/api/v1/people/ledger/?grid=350427&as_of=9999-01-01", "as_of"),
    ("/api/v1/people/ledger/?grid=350427&as_of=2030-01-01%00", "as_of"),
    ("/api/v1/people/micro-units/1/ledger/?as_of=%00", "as_of"),
    ("/api/v1/people/counts/?grid=350427%00", "grid"),
    ("/api/v1/people/counts/?grid=350427&level=9", "level"),
    ("/api/v1/people/counts/?grid=350427&level=x%00", "level"),
    (f"/api/v1/people/counts/?grid={ZONE}&level=3", "level"),
])
def test_bad_parameters_are_400_in_the_one_shape(client, users, url, field):
    r = get(client, users, "root", url)
    assert r.status_code == 400, r.content
    assert error_shaped(r) and field in r.json()["fields"], r.json()
