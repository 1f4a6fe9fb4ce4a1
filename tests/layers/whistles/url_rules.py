"""Rules of tests/test_url_scope.py for the whistle endpoints (layers/whistles/urls.py): every
role × a whistle blown at each target's point, with the walk's department (CGJ, serving every
district) as its lead.

Who sees a whistle (layers.whistles.access): the blowing office — the district's dispatchers
(dispatcher_X on A and B, dispatcher_Y on YA) and superusers — and the members of a department
called in (dept, on every target). Nobody else: a whistle out of sight is a 404 (403 to
anonymous callers), and lists leave it out. Whistle actions and the blowing office's unit
actions (release, replace, rate) are the blowers'; report-in, refuse and finish are the
department's; a role that sees the whistle but may not act gets 403. Community staff request
whistles for their community (A and B). Every write runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from layers.appeals.actors import Actor
from layers.whistles import services
from layers.whistles.models import Whistle

BLOWERS = {"dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"}, "superuser": {"A", "B", "YA"}}
MEMBERS = {"dept": {"A", "B", "YA"}, "superuser": {"A", "B", "YA"}}
SEE = {**BLOWERS, "dept": {"A", "B", "YA"}}
REQUESTERS = {"staff_com": {"A", "B"}}
ENTITLED = {200, 201, 400, 409}
UNIT_MEMBER_ACTIONS = ("report_in", "refuse", "finish")


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    code_of = {name: code for code, name in target_names.items()}

    def whistles(walk: Any) -> dict[str, Whistle]:
        root = next(u for u in walk.w.users.values() if u is not None and u.is_superuser)
        return {name: services.blow(Actor(user=root), reason="appeal", title=f"walk {name}",
                                    lead="CGJ", lon=point[code][0], lat=point[code][1])
                for code, name in target_names.items()}

    def each(fn: Callable) -> Callable:
        def rule(walk: Any) -> None:
            with transaction.atomic():
                made = whistles(walk)
                for role in roles:
                    for target, whistle in made.items():
                        with transaction.atomic():
                            fn(walk, role, target, whistle)
                            transaction.set_rollback(True)
                transaction.set_rollback(True)
        return rule

    def denied(role: str) -> int:
        return 403 if role == "anonymous" else 404

    def on_whistle(method: str, url: Callable[[Whistle], str], may: dict[str, set[str]],
                   body: Any = None) -> Callable:
        def check(walk: Any, role: str, target: str, w: Whistle) -> None:
            r = walk.w.call(role, method, url(w), body)
            if target in may.get(role, ()):
                want: set[int] | int = ENTITLED if method == "POST" else 200
            elif target in SEE.get(role, ()):
                want = 403
            else:
                want = denied(role)
            walk.expect(role, target, r, want)
        return each(check)

    def listing(path: str, key: str, scope: dict[str, set[str]] = SEE) -> Callable:
        def check(walk: Any, role: str, target: str, w: Whistle) -> None:
            r = walk.w.call(role, "GET", path)
            if role == "anonymous":
                walk.expect(role, target, r, 403)
                return
            walk.expect(role, target, r, 200)
            rows = r.json()[key] if r.status_code == 200 else []
            shown = {x.get("id") for x in rows}
            expected = target in scope.get(role, ())
            if (w.pk in shown) != expected:
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={w.pk in shown}")
        return check

    def blow(walk: Any, role: str, target: str, w: Whistle) -> None:
        lon, lat = point[code_of[target]]
        r = walk.w.call(role, "POST", "/api/v1/whistles/",
                        {"reason": "appeal", "title": "walk", "lead": "CGJ", "lon": lon,
                         "lat": lat})
        walk.expect(role, target, r, 201 if target in BLOWERS.get(role, ()) else 403)

    list_check = listing("/api/v1/whistles/?page_size=1000", "results")

    def list_and_blow(walk: Any, role: str, target: str, w: Whistle) -> None:
        list_check(walk, role, target, w)
        blow(walk, role, target, w)

    def ask(walk: Any, role: str, target: str, w: Whistle) -> None:
        lon, lat = point[code_of[target]]
        r = walk.w.call(role, "POST", "/api/v1/whistles/requests/",
                        {"reason": "key_task", "title": "walk", "lead": "CGJ", "lon": lon,
                         "lat": lat})
        walk.expect(role, target, r, 201 if target in REQUESTERS.get(role, ()) else 403)

    def figures(walk: Any, role: str, target: str, w: Whistle) -> None:
        r = walk.w.call(role, "GET", f"/api/v1/whistles/figures/?district={w.district_code}")
        walk.expect(role, target, r, 200 if target in BLOWERS.get(role, ()) else 403)

    def departments(walk: Any) -> None:
        # Names of public bodies, for the blowing form: every signed-in role; never members.
        for role in roles:
            r = walk.w.call(role, "GET", "/api/v1/whistles/departments/?district=350427")
            walk.expect(role, "-", r, 403 if role == "anonymous" else 200)
            if r.status_code == 200:
                rows = r.json()["departments"]
                if [d["code"] for d in rows] != ["CGJ"] or any(set(d) - {
                        "code", "name_zh", "name_en"} for d in rows):
                    walk.problems.append(f"{walk.name} [{role}]: {rows}")

    def lead_unit(w: Whistle) -> int:
        return w.units.get(role="lead").pk

    return {
        "whistles:whistle-list": each(list_and_blow),
        "whistles:whistle-request": each(ask),
        # A department member's own units only: the superuser belongs to no department.
        "whistles:mine": each(listing("/api/v1/whistles/mine/", "whistles",
                                      {"dept": SEE["dept"]})),
        "whistles:map": each(listing("/api/v1/whistles/map/", "features")),
        "whistles:figures": each(figures),
        "whistles:departments": departments,
        "whistles:whistle-detail": on_whistle("GET", lambda w: f"/api/v1/whistles/{w.pk}/",
                                              SEE),
        **{f"whistles:whistle-action-{name}": on_whistle(
            "POST", lambda w, name=name: f"/api/v1/whistles/{w.pk}/actions/{name}/", BLOWERS, {})
           for name in services.WHISTLE_ACTIONS.names},
        **{f"whistles:unit-action-{name}": on_whistle(
            "POST", lambda w, name=name: f"/api/v1/whistles/units/{lead_unit(w)}/actions/{name}/",
            MEMBERS if name in UNIT_MEMBER_ACTIONS else BLOWERS, {})
           for name in services.UNIT_ACTIONS.names},
    }
