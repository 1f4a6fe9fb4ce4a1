"""Rules of tests/test_url_scope.py for the deliberation endpoints (layers/deliberation/urls.py):
every role × a proposal for each target micro-grid, proposed by the superuser (so it is still
at its first stage: no decision is published, and nobody sees it as the public).

Who sees a proposal (layers.deliberation.access): staff of its community or subdistrict —
staff_com on A and B — and superusers; the proposer (here the superuser). Nobody else: out of
sight is a 404 (403 to anonymous callers), and the list leaves it out. Every action is staff's
(withdraw also the proposer's); the walk's roles that see a proposal all may act, so a 403 never
comes up here (tests/layers/deliberation/test_api.py has those). Who may propose: staff over
the grid, the micro-unit leader of A on A (the walk's resident has no home in the register). The
three lists are staff's; the figures also dispatchers' and grid managers' over the grid. Every
write runs in a savepoint that is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from layers.appeals.actors import Actor
from layers.deliberation import services
from layers.deliberation.models import Proposal

ALL = {"A", "B", "YA"}
STAFF = {"staff_com": {"A", "B"}, "superuser": ALL}
PROPOSERS = {**STAFF, "unit_leader_A": {"A"}}
FIGURES = {**STAFF, "manager": {"A", "B"}, "dispatcher_X": {"A", "B"},
           "dispatcher_Y": {"YA"}}
ENTITLED = {200, 201, 400, 409}
API = "/api/v1/deliberation"


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    code_of = {name: code for code, name in target_names.items()}

    def proposals(walk: Any) -> dict[str, Proposal]:
        root = next(u for u in walk.w.users.values() if u is not None and u.is_superuser)
        return {name: services.propose(Actor(user=root), grid=code, title=f"walk {name}",
                                       size="small")
                for code, name in target_names.items()}

    def each(fn: Callable) -> Callable:
        def rule(walk: Any) -> None:
            with transaction.atomic():
                made = proposals(walk)
                for role in roles:
                    for target, proposal in made.items():
                        with transaction.atomic():
                            fn(walk, role, target, proposal)
                            transaction.set_rollback(True)
                transaction.set_rollback(True)
        return rule

    def denied(role: str) -> int:
        return 403 if role == "anonymous" else 404

    def on_proposal(method: str, url: Callable[[Proposal], str], may: dict[str, set[str]]
                    ) -> Callable:
        def check(walk: Any, role: str, target: str, p: Proposal) -> None:
            r = walk.w.call(role, method, url(p), {} if method == "POST" else None)
            if target in may.get(role, ()):
                want: set[int] | int = ENTITLED if method == "POST" else 200
            elif target in STAFF.get(role, ()):
                want = 403
            else:
                want = denied(role)
            walk.expect(role, target, r, want)
        return each(check)

    def grid_read(path: str, may: dict[str, set[str]]) -> Callable:
        def check(walk: Any, role: str, target: str, p: Proposal) -> None:
            r = walk.w.call(role, "GET", f"{API}/{path}/?grid={code_of[target]}")
            walk.expect(role, target, r, 200 if target in may.get(role, ()) else 403)
        return each(check)

    def list_and_propose(walk: Any, role: str, target: str, p: Proposal) -> None:
        r = walk.w.call(role, "GET", f"{API}/proposals/?page_size=1000")
        if role == "anonymous":
            walk.expect(role, target, r, 403)
        else:
            walk.expect(role, target, r, 200)
            shown = {x.get("id") for x in r.json().get("results", [])}
            if (p.pk in shown) != (target in STAFF.get(role, ())):
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={p.pk in shown}")
        r = walk.w.call(role, "POST", f"{API}/proposals/",
                        {"grid": code_of[target], "title": "walk", "size": "big"})
        walk.expect(role, target, r, 201 if target in PROPOSERS.get(role, ()) else 403)

    def offer(walk: Any, role: str, target: str, p: Proposal) -> None:
        read = walk.w.call(role, "GET", f"{API}/offers/?grid={code_of[target]}")
        walk.expect(role, target, read, 200 if target in STAFF.get(role, ()) else 403)
        # No such partner unit: staff get past the permission check to the 400.
        r = walk.w.call(role, "POST", f"{API}/offers/",
                        {"community": p.community.code, "kind": "partner_unit",
                         "partner_unit": 999_999, "resource": "walk"})
        walk.expect(role, target, r, 400 if target in STAFF.get(role, ()) else 403)

    return {
        "deliberation:proposal-list": each(list_and_propose),
        "deliberation:proposal-detail": on_proposal(
            "GET", lambda p: f"{API}/proposals/{p.pk}/", STAFF),
        "deliberation:meetings": on_proposal(
            "GET", lambda p: f"{API}/proposals/{p.pk}/meetings/", STAFF),
        **{f"deliberation:proposal-action-{name}": on_proposal(
            "POST", lambda p, name=name: f"{API}/proposals/{p.pk}/actions/{name}/", STAFF)
           for name in services.PROPOSAL_ACTIONS.names},
        "deliberation:needs": grid_read("needs", STAFF),
        "deliberation:offers": each(offer),
        "deliberation:projects": grid_read("projects", STAFF),
        "deliberation:figures": grid_read("figures", FIGURES),
    }
