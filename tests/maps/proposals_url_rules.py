"""Rules of tests/test_url_scope.py for the community staff's proposals page (/m/proposals/,
maps/proposals.py).

The page holds no proposal (it reads /api/v1/deliberation/…, whose rules are in
tests/layers/deliberation/url_rules.py), only labels and the user's own communities with their
grids: anonymous callers are sent to the login, every signed-in role gets it, a community it
names is one the role is staff of, and the navigation offers it only to community and
subdistrict staff and superusers — `staff_com` and `superuser` in the walk's world.

Wiring (in tests/test_url_scope.py, after the whistles page's rules):

    from tests.maps import proposals_url_rules as proposals_page_rules
    RULES.update(proposals_page_rules.page_rules(ROLES + PEOPLE_ROLES))
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

RUNNING = {"staff_com", "superuser"}
NAV_LINK = 'href="/m/proposals/"'


def _communities(html: str) -> list[str]:
    marker = 'id="proposals-data" type="application/json">'
    if marker not in html:
        return []
    data = json.loads(html.split(marker)[1].split("</script>")[0])
    return [c["code"] for c in data["communities"]]


def page_rules(roles: tuple[str, ...]) -> dict[str, Callable]:
    def rule(walk: Any) -> None:
        for role in roles:
            r = walk.w.call(role, "GET", "/m/proposals/")
            if role == "anonymous":
                walk.expect(role, "-", r, 302, shape=False)
                if not r.get("Location", "").startswith("/accounts/login/"):
                    walk.problems.append(f"{walk.name} [{role}]: not sent to the login")
                continue
            walk.expect(role, "-", r, 200, shape=False)
            html = r.content.decode()
            offered = NAV_LINK in html
            if offered != (role in RUNNING):
                walk.problems.append(f"{walk.name} [{role}]: proposals offered={offered}")
            if bool(_communities(html)) != (role in RUNNING):
                walk.problems.append(f"{walk.name} [{role}]: communities "
                                     f"{_communities(html)}")

    return {"proposals-page": rule}
