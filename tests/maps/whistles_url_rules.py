"""Rules of tests/test_url_scope.py for the department member's phone page (/m/whistles/,
maps/whistles.py).

The page holds no whistle (it reads /api/v1/whistles/mine/, whose rules are in
tests/layers/whistles/url_rules.py) and only the labels and the user's own departments:
anonymous callers are sent to the login, every signed-in role gets it, and the navigation offers
it only to members of an active department — `dept` (of CGJ) in the walk's world.

Wiring (in tests/test_url_scope.py, after the care page's rules):

    from tests.maps import whistles_url_rules as whistles_page_rules
    RULES.update(whistles_page_rules.page_rules(ROLES + PEOPLE_ROLES))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MEMBERS = {"dept"}
NAV_LINK = 'href="/m/whistles/"'


def page_rules(roles: tuple[str, ...]) -> dict[str, Callable]:
    def rule(walk: Any) -> None:
        for role in roles:
            r = walk.w.call(role, "GET", "/m/whistles/")
            if role == "anonymous":
                walk.expect(role, "-", r, 302, shape=False)
                if not r.get("Location", "").startswith("/accounts/login/"):
                    walk.problems.append(f"{walk.name} [{role}]: not sent to the login")
                continue
            walk.expect(role, "-", r, 200, shape=False)
            offered = NAV_LINK in r.content.decode()
            if offered != (role in MEMBERS):
                walk.problems.append(f"{walk.name} [{role}]: whistles offered={offered}")

    return {"whistles-page": rule}
