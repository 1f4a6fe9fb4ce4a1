"""Rules of tests/test_url_scope.py for the placards endpoints (layers/placards/urls.py and its
page /q/<token>): every role × a placard at each target's point.

PLACARD_MANAGE (geogrid.capabilities) reaches: grid worker and grid leader of A on A, community
staff on A and B, the superuser everywhere; nobody else (grid managers, dispatchers, departments,
micro-unit leaders, residents). A placard outside the role's scope is a 404 like one that does
not exist (403 to anonymous callers); lists and the map layer leave it out; creating on a point
outside is a 403. The scan page and the report through a placard are public: every role gets
them, with the 四长 board's duty phones (public by design, like /api/v1/locate). Every write
runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.db import transaction

from geogrid.capabilities import GrantedViewer
from layers.placards import services
from layers.placards.models import Placard

MANAGE = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
          "superuser": {"A", "B", "YA"}}
# The dashboard's map layer also shows dispatchers and managers their scope (PLACARD_MAP).
ON_MAP = {**MANAGE, "manager": {"A", "B"}, "dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"}}
ALLOWED = {200, 201, 400, 409}
_names = itertools.count(1)


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""

    def placards(walk: Any) -> dict[str, Placard]:
        """A shop placard at each target's point, made afresh for the rule."""
        root = next(u for u in walk.w.users.values() if u is not None and u.is_superuser)
        out = {}
        for code, name in target_names.items():
            lon, lat = point[code]
            out[name] = services.create_placard(GrantedViewer(root), kind="shop",
                                                name=f"url-walk shop {next(_names)}",
                                                lon=lon, lat=lat)
        return out

    def may(role: str, target: str) -> bool:
        return target in MANAGE.get(role, ())

    def each(fn: Callable) -> Callable:
        def rule(walk: Any) -> None:
            with transaction.atomic():
                made = placards(walk)
                for role in roles:
                    for target, p in made.items():
                        with transaction.atomic():
                            fn(walk, role, target, p)
                            transaction.set_rollback(True)
                transaction.set_rollback(True)
        return rule

    def one(method: str, url: Callable[[Placard, str], str], body: Any = None,
            allowed: set[int] | int = 200, **entitled: bool) -> Callable:
        def check(walk: Any, role: str, target: str, p: Placard) -> None:
            r = walk.w.call(role, method, url(p, target), body)
            want = allowed if may(role, target) else 403 if role == "anonymous" else 404
            walk.expect(role, target, r, want, **entitled)
        return each(check)

    def listing(path: str, key: str, scope: dict[str, set[str]] = MANAGE
                ) -> Callable[[Any, str, str, Placard], None]:
        def check(walk: Any, role: str, target: str, p: Placard) -> None:
            r = walk.w.call(role, "GET", path)
            if role == "anonymous":
                walk.expect(role, target, r, 403)
                return
            walk.expect(role, target, r, 200)
            shown = {x["id"] for x in r.json()[key]} if r.status_code == 200 else set()
            if (p.pk in shown) != (target in scope.get(role, ())):
                walk.problems.append(f"{walk.name} [{role} → {target}]: listed={p.pk in shown}")
        return check

    def create(walk: Any, role: str, target: str, p: Placard) -> None:
        lon, lat = point[next(c for c, n in target_names.items() if n == target)]
        r = walk.w.call(role, "POST", "/api/v1/placards/",
                        {"kind": "place", "name": f"walk place {next(_names)}", "lon": lon,
                         "lat": lat})
        walk.expect(role, target, r, 201 if may(role, target) else 403)

    def bulk(walk: Any, role: str, target: str, p: Placard) -> None:
        code = next(c for c, n in target_names.items() if n == target)
        r = walk.w.call(role, "POST", "/api/v1/placards/bulk/", {"grid": code})
        walk.expect(role, target, r, 201 if may(role, target) else 403)

    def public(method: str, url: Callable[[Placard], str], body: Any, status: int) -> Callable:
        def check(walk: Any, role: str, target: str, p: Placard) -> None:
            r = walk.w.call(role, method, url(p), body)
            walk.expect(role, target, r, status, shape=False, phones=True)
        return each(check)

    list_check = listing("/api/v1/placards/?page_size=1000", "results")

    def list_and_create(walk: Any, role: str, target: str, p: Placard) -> None:
        list_check(walk, role, target, p)
        create(walk, role, target, p)

    return {
        "placards:list": each(list_and_create),
        "placards:bulk": each(bulk),
        "placards:layer": each(listing("/api/v1/placards/layer/", "features", ON_MAP)),
        "placards:sheet": one("GET", lambda p, _t: f"/api/v1/placards/sheet.pdf?placard={p.pk}",
                              phones=True),
        "placards:detail": one("GET", lambda p, _t: f"/api/v1/placards/{p.pk}/"),
        **{f"placards:action-{name}": one(
            "POST", lambda p, _t, name=name: f"/api/v1/placards/{p.pk}/actions/{name}/", {},
            ALLOWED) for name in services.PLACARD_ACTIONS.names},
        "placards:report": public(
            "POST", lambda p: f"/api/v1/placards/scan/{p.token}/appeal/",
            {"category": "R0102", "description": "url walk"}, 201),
        "placard-scan": public("GET", lambda p: f"/q/{p.token}", None, 200),
    }
