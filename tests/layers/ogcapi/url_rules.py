"""Rules of tests/test_url_scope.py for the OGC API (layers/ogcapi/urls.py).

Documents (landing page, conformance, OpenAPI, the service-doc page, the collections list) and
the public collections (grids per level, hotspots) answer every role alike. Appeals and
buildings (layers/ogcapi/access.py): anonymous callers get 403 on every URL of the collection;
signed-in people get 200 with the features of their posts' subtrees — the walk's appeal at a
target is listed exactly when the target is in the role's scope (SCOPE of tests/test_url_scope.py
and geogrid.access: a post covers its subtree; a superuser everything; residents and department
members, who hold no post, nothing) — and one feature by id is 200 inside the scope and 404
outside. No answer carries a staff phone, a login name or the reporter's phone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The walk's roles → the targets (by name) whose appeals they may read: posts cover subtrees.
SCOPE = {"worker_A": {"A"}, "leader_A": {"A"}, "manager": {"A", "B"},
         "dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"}, "staff_com": {"A", "B"},
         "unit_leader_A": {"A"}, "superuser": {"A", "B", "YA"}}
PUBLIC = ("micro-grids", "hotspots")


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""

    def public(url: str, status: int = 200) -> Callable:
        def rule(walk: Any) -> None:
            for role in roles:
                walk.expect(role, "-", walk.w.call(role, "GET", url), status, shape=False)
        return rule

    def appeal_ids(walk: Any) -> dict[str, int]:
        return {target_names[code]: a.pk for code, a in walk.w.appeals.items()}

    def per_collection(suffix: Callable[[str, dict[str, int]], str], listed: bool) -> Callable:
        def rule(walk: Any) -> None:
            for url in (f"/ogcapi/collections/{c}{suffix(c, {})}" for c in PUBLIC):
                for role in roles:
                    walk.expect(role, "-", walk.w.call(role, "GET", url), 200)
            made = appeal_ids(walk)
            for role in roles:
                url = f"/ogcapi/collections/appeals{suffix('appeals', made)}"
                response = walk.w.call(role, "GET", url)
                if role == "anonymous":
                    walk.expect(role, "-", response, 403)
                    continue
                walk.expect(role, "-", response, 200)
                if not listed or response.status_code != 200:
                    continue
                shown = {f["id"] for f in response.json()["features"]}
                for target, pk in made.items():
                    if (pk in shown) != (target in SCOPE.get(role, ())):
                        walk.problems.append(f"{walk.name} [{role} → {target}]: listed="
                                             f"{pk in shown}")
        return rule

    def one_feature(walk: Any) -> None:
        grid = next(iter(walk.w.grids.values()))
        for role in roles:
            r = walk.w.call(role, "GET", f"/ogcapi/collections/districts/items/{grid.pk}"
                            if grid.level == 1 else "/ogcapi/collections/districts/items/0")
            walk.expect(role, "-", r, {200, 404})
            for target, pk in appeal_ids(walk).items():
                r = walk.w.call(role, "GET", f"/ogcapi/collections/appeals/items/{pk}")
                inside = target in SCOPE.get(role, ())
                walk.expect(role, target, r, 403 if role == "anonymous" else
                            200 if inside else 404)

    return {
        "ogcapi:landing": public("/ogcapi/"),
        "ogcapi:conformance": public("/ogcapi/conformance"),
        "ogcapi:api": public("/ogcapi/api"),
        "ogcapi:api-html": public("/ogcapi/api.html"),
        "ogcapi:collections": public("/ogcapi/collections"),
        "ogcapi:collection": per_collection(lambda c, m: "", listed=False),
        "ogcapi:queryables": per_collection(lambda c, m: "/queryables", listed=False),
        "ogcapi:items": per_collection(lambda c, m: "/items?limit=1000", listed=True),
        "ogcapi:item": one_feature,
    }
