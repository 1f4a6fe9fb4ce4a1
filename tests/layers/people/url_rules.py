"""Rules of tests/test_url_scope.py for the people endpoints (layers/people/urls.py): every role
× a household in each target grid, inside and outside the role's scope.

Reads: a household the role may not see answers 404 (403 when anonymous), lists leave it out,
and every answer that shows one writes access-log rows. Actions: taken where the role may
(any of 200/201/400/409: the walk sends no real body), 403 where it sees the household but may
not act, 404 where it does not see it. Each action runs in a savepoint that is rolled back, so
the world stays as built. tests/layers/people/test_access_matrix.py checks the same rules in
depth (fields, levels, log rows) on a smaller town.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction

from geogrid.models import AccessLog
from layers.people.models import ChangeEvent, Household
from layers.people.services import CHANGE_ACTIONS, DWELLING_ACTIONS, HOUSEHOLD_ACTIONS
from tests.layers.people.factories import make_building, make_dwelling, make_household

# Who sees (FULL: grid and subtree posts) and who leads (the unit's leader) in each target.
FULL = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
        "superuser": {"A", "B", "YA"}}
UNIT = {"unit_leader_A": {"A"}}
UNMASK = {"staff_com": {"A", "B"}, "superuser": {"A", "B", "YA"}}
ALLOWED = {200, 201, 400, 409}


def people_of(w: Any, names: dict[str, str], points: dict[str, tuple[float, float]],
              ) -> dict[str, Household]:
    """One household per target grid, in the target's micro-unit, with one pending change.
    Made afresh for each rule: a walk's writes end with its test."""
    people = {}
    for code, unit in w.units.items():
        if code not in names:
            continue
        x, y = points[code]
        building = make_building(unit.grid, x, y, number=f"9{len(people)}")
        household = make_household(make_dwelling(building, "101", micro_unit=unit), 2)
        ChangeEvent.objects.create(kind="contact_changed", household=household,
                                   effective_date=dt.date(2026, 11, 1), source="door")
        people[names[code]] = household
    return people


def _sees(role: str, target: str) -> str:
    if target in FULL.get(role, ()):
        return "full"
    if target in UNIT.get(role, ()):
        return "unit"
    return ""


def household_rules(roles: tuple[str, ...], names: dict[str, str],
                    points: dict[str, tuple[float, float]]) -> dict[str, Callable]:
    """The rules, by URL name (people:…), for `roles` and the targets (code → name A/B/YA)."""

    def each(walk, fn) -> None:
        houses = people_of(walk.w, names, points)
        for role in roles:
            for target, household in houses.items():
                fn(walk, role, target, household)

    def denied(role: str) -> int:
        return 403 if role == "anonymous" else 404

    def detail(walk) -> None:
        def one(walk, role, target, h) -> None:
            before = AccessLog.objects.count()
            r = walk.w.call(role, "GET", f"/api/v1/people/households/{h.pk}/")
            walk.expect(role, target, r, 200 if _sees(role, target) else denied(role))
            if AccessLog.objects.count() != before + int(bool(_sees(role, target))):
                walk.problems.append(f"{walk.name} [{role} → {target}]: access log not one row")
        each(walk, one)

    def listing(walk) -> None:
        def one(walk, role, target, h) -> None:
            r = walk.w.call(role, "GET", f"/api/v1/people/households/?micro_unit="
                                         f"{h.dwelling.micro_unit_id}")
            if role == "anonymous":
                walk.expect(role, target, r, 403)
                return
            walk.expect(role, target, r, 200)
            shown = {x["id"] for x in r.json()["results"]} if r.status_code == 200 else set()
            if (h.pk in shown) != bool(_sees(role, target)):
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={h.pk in shown}")
        each(walk, one)

    def action(registry, name: str, path: Callable[[Household], str], verifier: bool) -> Callable:
        def rule(walk) -> None:
            def one(walk, role, target, h) -> None:
                sees = _sees(role, target)
                may = sees == "full" or (sees == "unit" and not verifier)
                with transaction.atomic():
                    r = walk.w.call(role, "POST", path(h), {"version": h.version})
                    transaction.set_rollback(True)
                want = ALLOWED if may else {403} if sees or role == "anonymous" else {404}
                walk.expect(role, target, r, want)
            each(walk, one)
        return rule

    rules: dict[str, Callable] = {
        "people:household-list": listing,
        "people:household-detail": detail,
    }
    verifying = {"verify_profile", "verify_occupancy"}
    for a in HOUSEHOLD_ACTIONS.public():
        rules[f"people:household-action-{a.name}"] = action(
            HOUSEHOLD_ACTIONS, a.name,
            lambda h, n=a.name: f"/api/v1/people/households/{h.pk}/actions/{n}/",
            a.name in verifying)
    for a in DWELLING_ACTIONS.public():
        rules[f"people:dwelling-action-{a.name}"] = action(
            DWELLING_ACTIONS, a.name,
            lambda h, n=a.name: f"/api/v1/people/dwellings/{h.dwelling_id}/actions/{n}/",
            a.name in verifying)
    for a in CHANGE_ACTIONS.public():
        rules[f"people:change-action-{a.name}"] = change_action(each, a.name)
    rules["people:person-unmask"] = unmask(each)
    rules["people:dwelling-list"] = dwelling_list(each)
    return rules


def change_action(each, name: str) -> Callable:
    def rule(walk) -> None:
        def one(walk, role, target, h) -> None:
            change = ChangeEvent.objects.filter(household=h).first()
            with transaction.atomic():
                r = walk.w.call(role, "POST", f"/api/v1/people/changes/{change.pk}/actions/"
                                              f"{name}/", {})
                transaction.set_rollback(True)
            want = ALLOWED if _sees(role, target) == "full" else (
                {403} if role == "anonymous" else {404})
            walk.expect(role, target, r, want)
        each(walk, one)
    return rule


def unmask(each) -> Callable:
    def rule(walk) -> None:
        def one(walk, role, target, h) -> None:
            person = h.residences.first().person
            before = AccessLog.objects.count()
            with transaction.atomic():
                r = walk.w.call(role, "POST", f"/api/v1/people/persons/{person.pk}/unmask/",
                                {"reason": "url walk", "fields": ["phone"]})
                logged = AccessLog.objects.count() - before
                transaction.set_rollback(True)
            may = target in UNMASK.get(role, ())
            want = {200} if may else {403} if (role == "anonymous" or _sees(role, target)
                                               == "full") else {403, 404}
            walk.expect(role, target, r, want, contact=may)  # the clear phone: theirs to see
            if logged != int(may):
                walk.problems.append(f"{walk.name} [{role} → {target}]: {logged} log rows")
        each(walk, one)
    return rule


def dwelling_list(each) -> Callable:
    def rule(walk) -> None:
        def one(walk, role, target, h) -> None:
            r = walk.w.call(role, "GET", f"/api/v1/people/dwellings/?building="
                                         f"{h.dwelling.building_id}")
            walk.expect(role, target, r, 403 if role == "anonymous" else 200)
            if r.status_code == 200:
                shown = {d["id"] for d in r.json()}
                if (h.dwelling_id in shown) != bool(_sees(role, target)):
                    walk.problems.append(f"{walk.name} [{role} → {target}]: dwelling listed="
                                         f"{h.dwelling_id in shown}")
        each(walk, one)
    return rule


def plain_rules(roles: tuple[str, ...], names: dict[str, str],
                codes: dict[str, str]) -> dict[str, Callable]:
    """Endpoints that name no household: who gets in at all."""
    full_anywhere = set(FULL)
    exporters = {"staff_com": {"A", "B"}, "superuser": {"A", "B", "YA"}}

    def by_role(method: str, url: str, ok: set[str], want_ok: int | set[int], body: Any = None,
                signed_in_ok: bool = False, anonymous: int = 403) -> Callable:
        def rule(walk) -> None:
            for role in roles:
                r = walk.w.call(role, method, url, body)
                if role == "anonymous":
                    walk.expect(role, "-", r, anonymous, shape=anonymous != 302)
                else:
                    walk.expect(role, "-", r, want_ok if signed_in_ok or role in ok else 403)
        return rule

    def export(walk) -> None:
        for role in roles:
            for name, code in codes.items():
                before = AccessLog.objects.count()
                r = walk.w.call(role, "GET", f"/api/v1/people/export.csv?grid={code}")
                may = name in exporters.get(role, ())
                walk.expect(role, name, r, 200 if may else 403)
                if AccessLog.objects.count() != before + int(may):
                    walk.problems.append(f"{walk.name} [{role} → {name}]: export not logged once")

    return {
        "people:person-search": by_role(
            "GET", "/api/v1/people/persons/?id_number=350427199001020018", full_anywhere, 200),
        "people:change-list": by_role("GET", "/api/v1/people/changes/", full_anywhere, 200),
        "people:micro-unit-list": by_role("GET", "/api/v1/people/micro-units/", set(), 200,
                                          signed_in_ok=True),
        "people:access-report": by_role("GET", "/api/v1/people/access-report/",
                                        {"superuser"}, 200),
        "people:register-import": by_role("POST", "/api/v1/people/imports/",  # no file
                                          set(exporters), {400, 415}, body={}),
        "people:register-export": export,
        "unit": by_role("GET", "/m/unit/", set(), 200, signed_in_ok=True, anonymous=302),
    }
