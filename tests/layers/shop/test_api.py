"""The shop API: who sees which shops and redemptions, the counter shows display names only,
pickup codes reach their volunteer only, and bad input is a 400 that changes nothing."""

from __future__ import annotations

import json

import pytest
from django.contrib.gis.geos import Point

from layers.shop import codes
from layers.shop.models import Item, Redemption, Shop, ShopOperator, StockMovement
from tests.factories import make_user
from tests.layers.factories import COMMUNITY, SUB
from tests.layers.volunteering.conftest import COMMUNITY2, give

pytestmark = pytest.mark.django_db
ERROR_KEYS = {"detail", "code", "fields", "problems"}


def as_(client, world, name: str):
    client.force_login(world.users[name])
    return client


def post(client, url: str, body: object = None):
    return client.generic("POST", url, json.dumps(body if body is not None else {}),
                          content_type="application/json")


def reserve(client, world, name="v1", item="rice", quantity=1):
    return post(as_(client, world, name), "/api/v1/shop/redemptions/",
                {"item": world.items[item].pk, "quantity": quantity})


def other_shop(world) -> Shop:
    shop = Shop.objects.create(community=world.grids[COMMUNITY2], name="东门爱心超市",
                               location=Point(117.827, 26.40, srid=4326))
    op2 = make_user("resident", username="op2")
    world.users["op2"] = op2
    ShopOperator.objects.create(shop=shop, user=op2)
    return shop


def test_volunteers_see_their_communitys_shops_and_items(client, world):
    other_shop(world)
    shops = as_(client, world, "v1").get("/api/v1/shop/shops/").json()
    assert [s["name"] for s in shops] == ["西门爱心积分超市"]
    items = client.get(f"/api/v1/shop/shops/{shops[0]['id']}/items/").json()
    assert {i["name"] for i in items} == {"大米 5kg", "食用油"}
    names = [s["name"] for s in as_(client, world, "v3").get("/api/v1/shop/shops/").json()]
    assert names == ["东门爱心超市"]
    assert client.get(f"/api/v1/shop/shops/{world.shop.pk}/items/").status_code == 404
    assert as_(client, world, "resident").get("/api/v1/shop/shops/").json() == []


def test_reserve_then_collect_at_the_counter(client, world):
    give(world.account("v1"), 40, "g")
    r = reserve(client, world)
    assert r.status_code == 201, r.content
    code = r.json()["pickup_code"]
    assert r.json()["points"] == 10 and codes.is_pickup_code(code)
    mine = client.get("/api/v1/shop/redemptions/").json()
    assert [m["pickup_code"] for m in mine] == [code]

    other_shop(world)
    assert as_(client, world, "op2").get(f"/api/v1/shop/counter/{code}/").status_code == 404
    seen = as_(client, world, "op").get(f"/api/v1/shop/counter/{code}/")
    assert seen.status_code == 200
    assert seen.json()["display_name"] == "小王" and seen.json()["pickup_code"] is None
    assert "v1" not in seen.content.decode()  # the login name never reaches the counter
    listed = client.get(f"/api/v1/shop/redemptions/?shop={world.shop.pk}").json()
    assert [x["display_name"] for x in listed] == ["小王"]
    assert all(x["pickup_code"] is None for x in listed)
    done = post(client, f"/api/v1/shop/counter/{code}/collect/")
    assert done.status_code == 200 and done.json()["status"] == "collected"
    assert post(client, f"/api/v1/shop/counter/{code}/collect/").status_code == 404
    assert as_(client, world, "op2").get(
        f"/api/v1/shop/redemptions/?shop={world.shop.pk}").status_code == 404


def test_out_of_stock_and_short_points_are_409_in_the_one_shape(client, world):
    give(world.account("v1"), 40, "g")
    r = reserve(client, world, quantity=5)
    assert r.status_code == 409 and r.json()["current"] == {"balance": 40}
    r = reserve(client, world, item="oil", quantity=3)
    assert r.status_code == 409 and "At most 2" in r.json()["detail"]
    Item.objects.filter(pk=world.items["rice"].pk).update(stock=0)
    r = reserve(client, world)
    assert r.status_code == 409 and r.json()["current"] == {"stock": 0}
    assert not Redemption.objects.exists()


@pytest.mark.parametrize("body", [{}, {"item": "x"}, {"item": 1, "quantity": 0},
                                  {"item": 1, "quantity": 21}, {"item": -1},
                                  {"item": 1, "key": "short"}, [1], "text"])
def test_bad_reservations_are_400(client, world, body):
    give(world.account("v1"), 40, "g")
    r = post(as_(client, world, "v1"), "/api/v1/shop/redemptions/", body)
    assert r.status_code == 400 and set(r.json()) >= ERROR_KEYS
    assert not Redemption.objects.exists() and Item.objects.get(name="大米 5kg").stock == 5


def test_a_repeated_key_returns_the_first_reservation(client, world):
    give(world.account("v1"), 40, "g")
    body = {"item": world.items["rice"].pk, "quantity": 1, "key": "phone-retry-0001"}
    first = post(as_(client, world, "v1"), "/api/v1/shop/redemptions/", body)
    again = post(client, "/api/v1/shop/redemptions/", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Redemption.objects.count() == 1


def test_cancel_by_the_volunteer_and_not_by_others(client, world):
    give(world.account("v1"), 40, "g")
    pk = reserve(client, world).json()["id"]
    assert post(as_(client, world, "v2"), f"/api/v1/shop/redemptions/{pk}/cancel/"
                ).status_code == 404
    r = post(as_(client, world, "v1"), f"/api/v1/shop/redemptions/{pk}/cancel/")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert post(client, f"/api/v1/shop/redemptions/{pk}/cancel/").status_code == 409


def test_restock_with_a_donor_by_operator_or_staff_and_adjust_by_staff(client, world):
    from tests.layers.volunteering.factories import make_partner_unit

    unit = make_partner_unit(world.grids[COMMUNITY])
    rice = world.items["rice"].pk
    r = post(as_(client, world, "op"), f"/api/v1/shop/items/{rice}/restock/",
             {"quantity": 10, "donor_unit": unit.pk})
    assert r.status_code == 201 and r.json()["stock_after"] == 15
    assert r.json()["donor"] == "县供电公司"
    assert post(client, f"/api/v1/shop/items/{rice}/adjust/",
                {"quantity": -1, "reason": "count"}).status_code == 403
    assert post(as_(client, world, "v1"), f"/api/v1/shop/items/{rice}/restock/",
                {"quantity": 1}).status_code == 403
    assert post(as_(client, world, "cs2"), f"/api/v1/shop/items/{rice}/restock/",
                {"quantity": 1}).status_code == 404
    r = post(as_(client, world, "cs"), f"/api/v1/shop/items/{rice}/adjust/",
             {"quantity": -16, "reason": "count"})
    assert r.status_code == 409 and Item.objects.get(pk=rice).stock == 15
    r = post(client, f"/api/v1/shop/items/{rice}/restock/",
             {"quantity": 1, "donor_unit": unit.pk, "donor_name": "both"})
    assert r.status_code == 400 and StockMovement.objects.count() == 1
    r = post(client, f"/api/v1/shop/items/{rice}/adjust/", {"quantity": -3, "reason": "盘点"})
    assert r.status_code == 201 and r.json()["stock_after"] == 12
    kinds = [m["kind"] for m in client.get(f"/api/v1/shop/items/{rice}/movements/").json()]
    assert kinds == ["adjustment", "restock"]


def test_at_counter_redemption_over_the_api(client, world):
    give(world.account("v2"), 40, "g")
    card = as_(client, world, "v2").get("/api/v1/shop/card/").json()
    assert card["display_name"] == "小李"
    r = post(as_(client, world, "op"), "/api/v1/shop/counter/redeem/",
             {"card": card["code"], "item": world.items["rice"].pk, "quantity": 2})
    assert r.status_code == 201 and r.json()["status"] == "collected"
    r = post(client, "/api/v1/shop/counter/redeem/",
             {"card": "1-AAAAAA", "item": world.items["rice"].pk})
    assert r.status_code == 400 and "card" in r.json()["fields"]
    assert as_(client, world, "op").get("/api/v1/shop/card/").status_code == 404


def test_shop_figures(client, world):
    give(world.account("v1"), 40, "g")
    reserve(client, world, quantity=2)
    r = as_(client, world, "ss").get(f"/api/v1/shop/figures/?grid={SUB}")
    assert r.status_code == 200
    row = next(x for x in r.json()["rows"] if x["code"] == COMMUNITY)
    assert row["shops"] == 1 and row["stock_units"] == 3 + 3
    assert row["stock_points"] == 3 * 10 + 3 * 25 and row["stock_value"] == 105.0
    assert row["reserved"] == 1 and row["points_redeemed"] == 20
    assert as_(client, world, "v1").get(f"/api/v1/shop/figures/?grid={SUB}").status_code == 404
