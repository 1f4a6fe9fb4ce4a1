"""Rules of tests/test_url_scope.py for the care visitor's phone page (/m/care/, maps/care.py).

The page holds no personal data (it reads the care API, which has its own rules in
tests/layers/care/url_rules.py): anonymous callers are sent to the login, every signed-in role
gets it, and the navigation offers it only to those who may visit — a post holding care.grid or
care.subtree (geogrid.capabilities), a superuser, or an open care visitor (none in the world).

Wiring (in tests/test_url_scope.py, after the people rules):

    from tests.maps import care_url_rules
    RULES.update(care_url_rules.page_rules(ROLES + PEOPLE_ROLES))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Roles of the walk's world whose posts carry care.grid or care.subtree.
VISITING = {"worker_A", "leader_A", "staff_com", "superuser"}
NAV_LINK = 'href="/m/care/"'


def page_rules(roles: tuple[str, ...]) -> dict[str, Callable]:
    def rule(walk: Any) -> None:
        for role in roles:
            r = walk.w.call(role, "GET", "/m/care/")
            if role == "anonymous":
                walk.expect(role, "-", r, 302, shape=False)
                if not r.get("Location", "").startswith("/accounts/login/"):
                    walk.problems.append(f"{walk.name} [{role}]: not sent to the login")
                continue
            walk.expect(role, "-", r, 200, shape=False)
            offered = NAV_LINK in r.content.decode()
            if offered != (role in VISITING):
                walk.problems.append(f"{walk.name} [{role}]: care visits offered={offered}")

    return {"care-visits": rule}
