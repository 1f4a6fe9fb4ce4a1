"""Rules of tests/test_url_scope.py for the wishes endpoints (layers/wishes/urls.py and its
pages): every role × a wish in each target micro-grid (A, B of district X; YA of Y).

Per target the rules make (afresh for each rule) a household in the target's micro-unit with a
wish on the wall and one claimed by a volunteer and delivered with a photo. Who sees the
claimed one (layers.wishes.access): FULL — grid workers/leaders of A on A, community staff on A
and B, superusers everywhere; UNIT — A's micro-unit leader on A; nobody else (404; 403 when
anonymous). None of the walk's roles is a volunteer, so nobody reads the contact (403 where the
wish is visible, 404 elsewhere). The wall is open to everyone and names nobody. The figures are
for posts with wishes.counts or wishes.grid on the grid (managers and dispatchers too): 200
there, the 404 of an unknown grid elsewhere. Actions: allowed (200/201/400/409: the walk sends
no real body) where the role may, 403 where it sees the wish but may not, 404 where it does
not; each runs in a savepoint that is rolled back.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from geogrid.models import AccessLog
from layers.wishes import services
from layers.wishes.access import WishViewer
from layers.wishes.models import Claim, Wish
from layers.wishes.services import WISH_ACTIONS
from tests.layers.people.factories import make_building, make_dwelling, make_household
from tests.layers.volunteering.factories import make_volunteer

FULL = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"},
        "superuser": {"A", "B", "YA"}}
UNIT = {"unit_leader_A": {"A"}}
REVIEW = {"staff_com": {"A", "B"}, "superuser": {"A", "B", "YA"}}
COUNTS = {"worker_A": {"A"}, "leader_A": {"A"}, "staff_com": {"A", "B"}, "manager": {"A", "B"},
          "dispatcher_X": {"A", "B"}, "dispatcher_Y": {"YA"}, "superuser": {"A", "B", "YA"}}
# who (beyond seeing the wish) may take each action, by the action's `who`
HELPERS = {**FULL, **UNIT}
MAY = {"publish": REVIEW, "reject": REVIEW, "direct": REVIEW, "revoke": REVIEW,
       "settle": REVIEW, "withdraw": HELPERS, "confirm": HELPERS, "dispute": HELPERS}
ALLOWED = {200, 201, 400, 409}


def _level(role: str, target: str) -> str:
    if target in FULL.get(role, ()):
        return "full"
    return "unit" if target in UNIT.get(role, ()) else ""


def _jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 100, 50)).save(out, format="JPEG")
    return SimpleUploadedFile("gift.jpg", out.getvalue(), content_type="image/jpeg")


def wishes_of(w: Any, names: dict[str, str], points: dict[str, tuple[float, float]],
              ) -> dict[str, tuple[Wish, Wish, Claim]]:
    """Per target: (a wish on the wall, a claimed and delivered wish, its claim)."""
    root = next(u for u in w.users.values() if u is not None and u.is_superuser)
    out: dict[str, tuple[Wish, Wish, Claim]] = {}
    for code, unit in w.units.items():
        if code not in names:
            continue
        x, y = points[code]
        building = make_building(unit.grid, x, y, number=f"9{len(out)}{Wish.objects.count()}")
        household = make_household(make_dwelling(building, "203", micro_unit=unit), 1)
        made = []
        for title in ("wall", "claimed"):
            wish = services.post_wish(WishViewer(root), household=household.pk,
                                      category="material", title=f"{title} 秘密标题",
                                      public_title="一份心愿", est_value=60)
            made.append(services.publish(wish.pk, WishViewer(root)))
        volunteer = make_volunteer(made[1].community)
        services.claim(made[1].pk, WishViewer(volunteer.user))
        services.deliver(made[1].pk, WishViewer(volunteer.user), photos=[_jpeg()])
        out[names[code]] = (made[0], made[1], Claim.objects.get(wish=made[1]))
    return out


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    codes = {name: code for code, name in target_names.items()}

    def each(walk: Any, fn: Callable) -> None:
        made = wishes_of(walk.w, target_names, point)
        for role in roles:
            for target, (wall, claimed, claim) in made.items():
                fn(walk, role, target, wall, claimed, claim)

    def wall(walk: Any) -> None:
        def one(walk, role, target, wall, claimed, _c) -> None:
            r = walk.w.call(role, "GET", "/api/v1/wishes/wall/?page_size=1000")
            walk.expect(role, target, r, 200)
            if r.status_code == 200:
                ids = {x["id"] for x in r.json()["results"]}
                text = r.content.decode()
                if wall.pk not in ids or claimed.pk in ids or "秘密" in text \
                        or wall.wisher.name in text:
                    walk.problems.append(f"{walk.name} [{role} → {target}]: wall content")
        each(walk, one)

    def signed_in(url: str) -> Callable:
        def rule(walk: Any) -> None:
            for role in roles:
                walk.expect(role, "-", walk.w.call(role, "GET", url),
                            403 if role == "anonymous" else 200)
        return rule

    def staff_list(walk: Any) -> None:
        def one(walk, role, target, _w, claimed, _c) -> None:
            r = walk.w.call(role, "GET", "/api/v1/wishes/?page_size=1000")
            walk.expect(role, target, r, 403 if role == "anonymous" else 200)
            if r.status_code == 200:
                shown = claimed.pk in {x["id"] for x in r.json()["results"]}
                if shown != bool(_level(role, target)):
                    walk.problems.append(f"{walk.name} [{role} → {target}]: listed={shown}")
            with transaction.atomic():
                r = walk.w.call(role, "POST", "/api/v1/wishes/", {"title": ""})
                transaction.set_rollback(True)
            walk.expect(role, target, r, 403 if role == "anonymous" else 400)
        each(walk, one)

    def detail(walk: Any) -> None:
        def one(walk, role, target, _w, claimed, _c) -> None:
            before = AccessLog.objects.count()
            r = walk.w.call(role, "GET", f"/api/v1/wishes/{claimed.pk}/")
            sees = bool(_level(role, target))
            walk.expect(role, target, r, 200 if sees else 403 if role == "anonymous" else 404)
            if AccessLog.objects.count() != before + int(sees):
                walk.problems.append(f"{walk.name} [{role} → {target}]: log not one row")
        each(walk, one)

    def contact(walk: Any) -> None:
        def one(walk, role, target, _w, claimed, _c) -> None:
            r = walk.w.call(role, "GET", f"/api/v1/wishes/{claimed.pk}/contact/")
            sees = bool(_level(role, target))
            walk.expect(role, target, r, 403 if sees or role == "anonymous" else 404)
        each(walk, one)

    def figures(suffix: str) -> Callable:
        def rule(walk: Any) -> None:
            for role in roles:
                for name, code in codes.items():
                    r = walk.w.call(role, "GET", f"/api/v1/wishes/figures/{suffix}?grid={code}")
                    may = name in COUNTS.get(role, ())
                    walk.expect(role, name, r, 200 if may else 403 if role == "anonymous"
                                else 404)
        return rule

    def action(name: str) -> Callable:
        def rule(walk: Any) -> None:
            def one(walk, role, target, _w, claimed, _c) -> None:
                level = _level(role, target)
                may = target in MAY.get(name, {}).get(role, ())
                with transaction.atomic():
                    r = walk.w.call(role, "POST",
                                    f"/api/v1/wishes/{claimed.pk}/actions/{name}/", {})
                    transaction.set_rollback(True)
                want = ALLOWED if may else {403} if level or role == "anonymous" else {404}
                walk.expect(role, target, r, want)
            each(walk, one)
        return rule

    def photo(suffix: str) -> Callable:  # like appeal photos: one 404 for everyone refused
        def rule(walk: Any) -> None:
            def one(walk, role, target, _w, _claimed, claim) -> None:
                r = walk.w.call(role, "GET", f"/api/v1/wishes/claims/{claim.pk}/photos/"
                                             f"{claim.photos.get().pk}/{suffix}")
                walk.expect(role, target, r, 200 if _level(role, target) else 404)
            each(walk, one)
        return rule

    out: dict[str, Any] = {
        "wishes:wall": wall,
        "wishes:wish-list": staff_list,
        "wishes:mine": signed_in("/api/v1/wishes/mine/"),
        "wishes:my-claims": signed_in("/api/v1/wishes/claims/"),
        "wishes:figures": figures(""),
        "wishes:figures-layer": figures("layer/"),
        "wishes:wish-detail": detail,
        "wishes:wish-contact": contact,
        "wishes:claim-photo": photo(""),
        "wishes:claim-photo-thumbnail": photo("thumbnail/"),
    }
    for a in WISH_ACTIONS.public():
        out[f"wishes:wish-action-{a.name}"] = action(a.name)
    out.update(page_rules(roles))
    return out


def page_rules(roles: tuple[str, ...]) -> dict[str, Any]:
    """The phone page: anyone may open it (the wall needs no login); it holds no personal
    data itself — everything comes from the API above."""

    def page(walk: Any) -> None:
        for role in roles:
            r = walk.w.call(role, "GET", "/m/wishes/")
            walk.expect(role, "-", r, 200, shape=False)

    return {"wishes-page": page}
