"""Rules of tests/test_url_scope.py for the care figures (layers/care/stats_urls.py): every role
× a micro-grid in each target, inside and outside the role's scope.

Any care capability on the grid lets a role read its figures (care.grid, care.subtree,
care.list, care.counts: layers.care.access); outside it the answer is the 404 of a grid that
does not exist, and anonymous callers get 403. Roles that do not see the groups there
(dispatchers, grid managers) get small cells suppressed (`suppressed_below`); the figures hold
no personal data, so no access-log row is written. tests/layers/care/test_stats.py checks the
figures themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from geogrid.models import AccessLog

# Targets (A, B: micro-grids of district X's community; YA: district Y) each role may read,
# and those of them where it sees the groups (no suppression).
READ = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
        "manager": {"A", "B"}, "dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"},
        "superuser": {"A", "B", "YA"}}
FULL = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
        "superuser": {"A", "B", "YA"}}


def stats_rules(roles: tuple[str, ...], codes: dict[str, str],
                namespace: str = "care:") -> dict[str, Callable]:
    """The rules by URL name for `roles` and the targets `codes` (name A/B/YA → grid code)."""

    def read(url: Callable[[str], str]) -> Callable:
        def rule(walk: Any) -> None:
            for role in roles:
                for name, code in codes.items():
                    before = AccessLog.objects.count()
                    r = walk.w.call(role, "GET", url(code))
                    may = name in READ.get(role, ())
                    walk.expect(role, name, r,
                                200 if may else 403 if role == "anonymous" else 404)
                    if r.status_code == 200:
                        suppressed = r.json()["suppressed_below"] is not None
                        if suppressed == (name in FULL.get(role, ())):
                            walk.problems.append(f"{walk.name} [{role} → {name}]: "
                                                 f"suppressed={suppressed}")
                    if AccessLog.objects.count() != before:
                        walk.problems.append(f"{walk.name} [{role} → {name}]: logged a read")
        return rule

    return {
        f"{namespace}stats": read(lambda c: f"/api/v1/care/stats/?grid={c}&by=5"
                                            "&from=2026-01&to=2026-02"),
        f"{namespace}stats-layer": read(lambda c: f"/api/v1/care/stats/layer/?grid={c}&by=5"
                                                  "&month=2026-01"),
    }
