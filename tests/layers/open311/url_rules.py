"""Rules of tests/test_url_scope.py for the Open311 endpoints (layers/open311/urls.py).

Open311 authenticates by API key only: a session is ignored, so every role of the walk gets
what an anonymous caller gets — the public feed (feed ids, never a tracking number, the
reporter's phone, a staff phone or a login), 403 on the writes and on tokens, 404 for a
tracking number. With a key (made in a savepoint for the rule) the scope decides: a key of
district X lists the appeals of A and B, a key of district Y only YA's, whoever's session
comes with it. Refusals are the spec's `[{code, description}]`, not the one error shape
(`shape=False`), and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from geogrid import apiclients
from layers.appeals.models import Appeal
from layers.open311 import ids

BASE = "/open311/v2/"


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    names = {name: code for code, name in target_names.items()}

    def spec_error(walk: Any, role: str, response: Any, status: int) -> None:
        body = response.json() if response.status_code == status else None
        if not (isinstance(body, list) and body and set(body[0]) == {"code", "description"}):
            walk.problems.append(f"{walk.name} [{role}]: not the spec's error: "
                                 f"{response.content[:120]!r}")

    def every_role(url: Callable[[Any], str], status: int, method: str = "GET",
                   check: Callable[[Any, str, Any], None] | None = None) -> Callable:
        def rule(walk: Any) -> None:
            before = Appeal.objects.values_list("status", "version").order_by("pk")
            before = list(before)
            for role in roles:
                response = walk.w.call(role, method, url(walk))
                walk.expect(role, "-", response, status, shape=False)
                if status >= 400:
                    spec_error(walk, role, response, status)
                elif check is not None:
                    check(walk, role, response)
            after = list(Appeal.objects.values_list("status", "version").order_by("pk"))
            if after != before or Appeal.objects.count() != len(before):
                walk.problems.append(f"{walk.name}: appeals changed")
        return rule

    def public_feed(walk: Any, role: str, response: Any) -> None:
        listed = {r["service_request_id"] for r in response.json()}
        wanted = {ids.feed_id(a.public_id) for a in walk.w.appeals.values()}
        if not wanted <= listed or any(a.tracking in response.content.decode()
                                       for a in walk.w.appeals.values()):
            walk.problems.append(f"{walk.name} [{role}]: {sorted(listed)}")

    def scoped(walk: Any) -> None:
        """With a key: each district's key lists its own appeals, whatever the session."""
        with transaction.atomic():
            keys = {}
            for district in ("350427", "350428"):
                _, keys[district] = apiclients.create_client(
                    f"walk {district}", permissions=["read_appeals"], scopes=[district])
            for role in roles:
                for district, key in keys.items():
                    response = walk.w.call(role, "GET", BASE + "requests.json",
                                           HTTP_X_API_KEY=key)
                    walk.expect(role, district, response, 200, shape=False)
                    listed = {r["service_request_id"] for r in response.json()}
                    wanted = {walk.w.appeals[names[n]].tracking
                              for n in (("A", "B") if district == "350427" else ("YA",))}
                    if listed != wanted:
                        walk.problems.append(f"{walk.name} [{role} with the key of {district}]:"
                                             f" {sorted(listed)} ≠ {sorted(wanted)}")
            transaction.set_rollback(True)

    def both(*parts: Callable) -> Callable:
        def rule(walk: Any) -> None:
            for part in parts:
                part(walk)
        return rule

    def feed_id_of_a(walk: Any) -> str:
        return ids.feed_id(walk.w.appeals[names["A"]].public_id)

    return {
        "open311:discovery": every_role(lambda w: BASE + "discovery.json", 200),
        "open311:services": every_role(lambda w: BASE + "services.xml", 200),
        "open311:service": every_role(lambda w: BASE + "services/R0102.json", 200),
        "open311:requests": both(
            every_role(lambda w: BASE + "requests.json", 200, check=public_feed),
            every_role(lambda w: BASE + "requests.json", 403, method="POST"),
            scoped),
        "open311:request": both(
            every_role(lambda w: BASE + f"requests/{feed_id_of_a(w)}.json", 200),
            every_role(lambda w: BASE + f"requests/{w.w.appeals[names['A']].tracking}.json",
                       404)),
        "open311:token": every_role(
            lambda w: BASE + f"tokens/{w.w.appeals[names['A']].public_id}.json", 403),
        "open311:updates": both(
            every_role(lambda w: BASE + "servicerequestupdates.json", 200),
            every_role(lambda w: BASE + "servicerequestupdates.json", 403, method="POST")),
    }
