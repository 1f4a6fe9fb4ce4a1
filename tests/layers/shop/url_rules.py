"""Rules of tests/test_url_scope.py for the shop endpoints (layers/shop/urls.py) and the two
phone pages (/m/points/, /m/shop/): every role of the walk × a shop in each target's community.

The scene, made afresh in a savepoint for each rule and rolled back: per community a shop with
an operator and an item, and a volunteer (neither is a walk role) with a reserved redemption.
No walk role is a volunteer or an operator, so:

- shop and item reads, restock, adjustment, movements: POINTS_VERIFY staff of the shop's
  community (staff_com on A/B) and the superuser; others 404, anonymous 403;
- a redemption (cancel) and a pickup code (lookup, collect): the superuser only (operators and
  the volunteer are not walk roles); others 404;
- the card: 404 for everyone signed in (no volunteer); the counter redemption: 400 for the
  empty body;
- the figures: POINTS_COUNTS as in tests/layers/volunteering/url_rules.py;
- the pages: anonymous callers go to the login, every signed-in role gets them; the QR code of
  a pickup code: its volunteer only (404 for every walk role).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Point
from django.db import transaction

from layers.shop import services
from layers.shop.access import ShopViewer
from layers.shop.models import Item, Redemption, Shop, ShopOperator
from layers.volunteering import ledger
from layers.volunteering.ledger import Source
from layers.volunteering.models import EntryKind, Volunteer
from tests.factories import make_user
from tests.layers.volunteering.url_rules import COUNTS, VERIFY, community_of

SUPER = {"superuser": {"A", "B", "YA"}}
_made = iter(range(1, 10**6))


@dataclass
class Scene:
    shop: Shop
    item: Item
    redemption: Redemption


def make_scene(code: str, lonlat: tuple[float, float]) -> Scene:
    n = next(_made)
    community = community_of(code)
    shop, _new = Shop.objects.get_or_create(
        community=community, name="爱心积分超市",
        defaults={"location": Point(*lonlat, srid=4326)})
    ShopOperator.objects.create(shop=shop, user=make_user(username=f"zz-op-{code}-{n}"))
    item = Item.objects.create(shop=shop, name=f"大米{n}", price_points=10, stock=5)
    volunteer = Volunteer.objects.create(user=make_user(username=f"zz-sv-{code}-{n}"),
                                         display_name="志愿者", community=community)
    account = ledger.account_for(volunteer)
    ledger.post(account.pk, 40, EntryKind.EARN, key=f"zz-shop-earn-{code}-{n}",
                source=Source("test", 1))
    done = services.reserve(ShopViewer(volunteer.user), item=item.pk, quantity=1)
    return Scene(shop, item, done.redemption)


@contextmanager
def scenes(names: dict[str, str], point: dict[str, tuple[float, float]]):
    with transaction.atomic():
        yield {name: make_scene(code, point[code]) for code, name in names.items()}
        transaction.set_rollback(True)


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    codes = {name: code for code, name in target_names.items()}

    def signed_in(method: str, url: str, status: int) -> Callable:
        def rule(walk) -> None:
            for role in roles:
                with transaction.atomic():
                    r = walk.w.call(role, method, url)
                    transaction.set_rollback(True)
                walk.expect(role, "-", r, 403 if role == "anonymous" else status)
        return rule

    def scoped(method: str, url: Callable[[Scene, str], str], who: dict[str, set[str]],
               allowed: set[int]) -> Callable:
        def rule(walk) -> None:
            with scenes(target_names, point) as made:
                for role in roles:
                    for target, scene in made.items():
                        with transaction.atomic():
                            r = walk.w.call(role, method, url(scene, codes[target]))
                            transaction.set_rollback(True)
                        may = target in who.get(role, ())
                        walk.expect(role, target, r, allowed if may else
                                    {403} if role == "anonymous" else {404})
        return rule

    def shop_list(walk) -> None:
        with scenes(target_names, point) as made:
            for role in roles:
                r = walk.w.call(role, "GET", "/api/v1/shop/shops/")
                if role == "anonymous":
                    walk.expect(role, "-", r, 403)
                    continue
                walk.expect(role, "-", r, 200)
                shown = {s["id"] for s in r.json()} if r.status_code == 200 else set()
                for target, scene in made.items():
                    if (scene.shop.pk in shown) != (target in VERIFY.get(role, ())):
                        walk.problems.append(f"{walk.name} [{role} → {target}]: listed wrong")

    def page(url: str) -> Callable:
        def rule(walk) -> None:
            for role in roles:
                r = walk.w.call(role, "GET", url)
                if role == "anonymous":
                    walk.expect(role, "-", r, 302, shape=False)
                    if not r.get("Location", "").startswith("/accounts/login/"):
                        walk.problems.append(f"{walk.name} [{role}]: not sent to the login")
                    continue
                walk.expect(role, "-", r, 200, shape=False)
        return rule

    def pickup_qr(walk) -> None:  # its own volunteer only, who is not a walk role
        with scenes(target_names, point) as made:
            for role in roles:
                for target, scene in made.items():
                    r = walk.w.call(role, "GET",
                                    f"/m/points/qr/{scene.redemption.pickup_code}.svg")
                    walk.expect(role, target, r, 302 if role == "anonymous" else 404,
                                shape=False)

    base = "/api/v1/shop"
    return {
        "shop:shop-list": shop_list,
        "shop:item-list": scoped("GET", lambda s, c: f"{base}/shops/{s.shop.pk}/items/",
                                 VERIFY, {200}),
        "shop:redemption-list": signed_in("GET", f"{base}/redemptions/", 200),
        "shop:redemption-cancel": scoped(
            "POST", lambda s, c: f"{base}/redemptions/{s.redemption.pk}/cancel/", SUPER, {200}),
        "shop:card": signed_in("GET", f"{base}/card/", 404),
        "shop:counter-redeem": signed_in("POST", f"{base}/counter/redeem/", 400),
        "shop:counter-lookup": scoped(
            "GET", lambda s, c: f"{base}/counter/{s.redemption.pickup_code}/", SUPER, {200}),
        "shop:counter-collect": scoped(
            "POST", lambda s, c: f"{base}/counter/{s.redemption.pickup_code}/collect/", SUPER,
            {200}),
        "shop:item-restock": scoped("POST", lambda s, c: f"{base}/items/{s.item.pk}/restock/",
                                    VERIFY, {400}),
        "shop:item-adjust": scoped("POST", lambda s, c: f"{base}/items/{s.item.pk}/adjust/",
                                   VERIFY, {400}),
        "shop:item-movements": scoped(
            "GET", lambda s, c: f"{base}/items/{s.item.pk}/movements/", VERIFY, {200}),
        "shop:figures": scoped("GET", lambda s, c: f"{base}/figures/?grid={c}", COUNTS, {200}),
        "points-page": page("/m/points/"),
        "shop-counter-page": page("/m/shop/"),
        "points-pickup-qr": pickup_qr,
    }
