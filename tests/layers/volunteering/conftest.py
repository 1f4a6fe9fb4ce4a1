"""A small world for points: the layers city (tests/layers/factories.py) with a second
community, staff with posts, volunteers with accounts, and a shop with an operator and items.

    cs     community staff of COMMUNITY (POINTS_VERIFY)      cs2  of COMMUNITY2
    ss     subdistrict staff of SUB (POINTS_VERIFY, POINTS_REVERSE)
    ss2    a second subdistrict staff member (four eyes)
    gw     grid worker of A (POINTS_COUNTS)                 dispatcher  of the district
    v1, v2 volunteers of COMMUNITY ("小王", "小李")          v3  of COMMUNITY2 ("小张")
    op     operator of the shop (COMMUNITY)                 resident  a signed-in nobody
    shop   西门爱心积分超市 in COMMUNITY: rice (10 points, stock 5), oil (25, stock 3, at most
           2 a month)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.gis.geos import Point

from geogrid.models import Grid, Post
from layers.shop.models import Item, Shop, ShopOperator
from layers.volunteering import ledger
from layers.volunteering.ledger import Source
from layers.volunteering.models import EntryKind, PointsAccount, Volunteer
from layers.volunteering.rules import ensure_default_rules
from tests.factories import assign, make_grid, make_user
from tests.layers.factories import COMMUNITY, SUB, box, make_city
from tests.layers.volunteering.factories import make_volunteer

COMMUNITY2 = SUB + "002"


@dataclass
class World:
    grids: dict[str, Grid]
    users: dict[str, Any] = field(default_factory=dict)
    volunteers: dict[str, Volunteer] = field(default_factory=dict)
    shop: Shop | None = None
    items: dict[str, Item] = field(default_factory=dict)

    def account(self, name: str) -> PointsAccount:
        return ledger.account_for(self.volunteers[name])


def give(account: PointsAccount, points: int, key: str) -> None:
    """Points for a test, by an earn entry (as a verified service record would post)."""
    ledger.post(account.pk, points, EntryKind.EARN, key=key, source=Source("test", 1),
                grid_id=account.volunteer.community_id)


def build_world() -> World:
    ensure_default_rules()
    grids = make_city(with_staff=False)
    grids[COMMUNITY2] = make_grid(COMMUNITY2, parent=grids[SUB],
                                  boundary=box(117.825, 26.385, 117.83, 26.415), name="东门社区")
    w = World(grids)
    u = w.users
    for name, post, code in (("cs", Post.COMMUNITY_STAFF, COMMUNITY),
                             ("cs2", Post.COMMUNITY_STAFF, COMMUNITY2),
                             ("ss", Post.SUBDISTRICT_STAFF, SUB),
                             ("ss2", Post.SUBDISTRICT_STAFF, SUB),
                             ("gw", Post.GRID_WORKER, COMMUNITY + "001001"),
                             ("dispatcher", Post.DISPATCHER, SUB[:6])):
        u[name] = make_user("grid_worker", username=name)
        assign(u[name], grids[code], post)
    u["op"] = make_user("resident", username="op")
    u["resident"] = make_user("resident", username="resident")
    for name, display, code in (("v1", "小王", COMMUNITY), ("v2", "小李", COMMUNITY),
                                ("v3", "小张", COMMUNITY2)):
        w.volunteers[name] = make_volunteer(grids[code], display_name=display,
                                            user=make_user("resident", username=name))
        u[name] = w.volunteers[name].user
        ledger.account_for(w.volunteers[name])
    w.shop = Shop.objects.create(community=grids[COMMUNITY], name="西门爱心积分超市",
                                 location=Point(117.80, 26.40, srid=4326),
                                 opening_note="周六 9:00–11:00")
    ShopOperator.objects.create(shop=w.shop, user=u["op"])
    w.items["rice"] = Item.objects.create(shop=w.shop, name="大米 5kg", price_points=10, stock=5)
    w.items["oil"] = Item.objects.create(shop=w.shop, name="食用油", price_points=25, stock=3,
                                         monthly_limit=2)
    return w


@pytest.fixture
def world(db) -> World:
    return build_world()
