"""The shop's flow (layers.shop.services and the API): reserve takes points and stock at once,
collect at the counter is final, cancel and expiry give both back, the monthly limit holds,
at-counter redemption with the volunteer's card — and the races on real connections."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test import Client
from django.utils import timezone

from geogrid.errors import Conflict, NotFound
from layers.shop import codes, services
from layers.shop.access import ShopViewer
from layers.shop.expiry import expire_redemptions
from layers.shop.models import Item, Redemption, StockMovement
from layers.volunteering import ledger
from layers.volunteering.models import PointsAccount, PointsEntry
from tests.concurrency import race
from tests.factories import make_user
from tests.layers.volunteering.conftest import build_world, give
from tests.layers.volunteering.factories import make_volunteer

pytestmark = pytest.mark.django_db


def V(user) -> ShopViewer:
    return ShopViewer(user)


def balance(world, name: str) -> int:
    return PointsAccount.objects.get(volunteer=world.volunteers[name]).balance


def stock(item: Item) -> int:
    return Item.objects.get(pk=item.pk).stock


def test_reserve_takes_points_and_stock_and_gives_a_pickup_code(world):
    give(world.account("v1"), 50, "g")
    rice = world.items["rice"]
    done = services.reserve(V(world.users["v1"]), item=rice.pk, quantity=2, key="key-0001")
    r = done.redemption
    assert done.created and r.status == "reserved" and r.points == 20
    assert codes.is_pickup_code(r.pickup_code)
    assert r.expires_at - r.reserved_at == dt.timedelta(days=7)
    assert balance(world, "v1") == 30 and stock(rice) == 3
    assert r.entry.kind == "redeem" and r.entry.amount == -20
    assert r.entry.source_type == "redemption" and r.entry.source_id == r.pk
    move = StockMovement.objects.get(redemption=r)
    assert (move.kind, move.quantity, move.stock_after) == ("redemption", -2, 3)
    again = services.reserve(V(world.users["v1"]), item=rice.pk, quantity=2, key="key-0001")
    assert not again.created and again.redemption.pk == r.pk
    assert balance(world, "v1") == 30 and stock(rice) == 3


def test_short_points_or_stock_change_nothing(world):
    give(world.account("v1"), 15, "g")
    with pytest.raises(Conflict, match="Not enough points"):
        services.reserve(V(world.users["v1"]), item=world.items["rice"].pk, quantity=2)
    with pytest.raises(Conflict, match="Out of stock"):
        services.reserve(V(world.users["v1"]), item=world.items["rice"].pk, quantity=6)
    assert stock(world.items["rice"]) == 5 and balance(world, "v1") == 15
    assert not Redemption.objects.exists() and not StockMovement.objects.exists()


def test_collect_at_the_counter_is_final_and_shows_the_display_name_only(world):
    give(world.account("v1"), 50, "g")
    r = services.reserve(V(world.users["v1"]), item=world.items["rice"].pk, quantity=1
                         ).redemption
    op = V(world.users["op"])
    with pytest.raises(NotFound):  # another shop's operator, or nobody's, does not find it
        services.collect(V(world.users["cs"]), r.pickup_code)
    typed = r.pickup_code.lower()[:4] + "-" + r.pickup_code.lower()[4:]
    collected = services.collect(op, typed)
    assert collected.status == "collected" and collected.closed_by == world.users["op"]
    with pytest.raises(NotFound):  # a collected code is not live any more
        services.collect(op, r.pickup_code)
    with pytest.raises(Conflict):
        services.cancel(V(world.users["v1"]), r.pk)
    assert balance(world, "v1") == 40 and stock(world.items["rice"]) == 4


def test_cancel_gives_points_and_stock_back_once(world):
    give(world.account("v1"), 50, "g")
    r = services.reserve(V(world.users["v1"]), item=world.items["oil"].pk, quantity=2
                         ).redemption
    with pytest.raises(NotFound):
        services.cancel(V(world.users["v2"]), r.pk)
    services.cancel(V(world.users["op"]), r.pk, reason="changed their mind")
    r.refresh_from_db()
    assert r.status == "cancelled" and r.reversal.reverses_id == r.entry_id
    assert balance(world, "v1") == 50 and stock(world.items["oil"]) == 3
    assert StockMovement.objects.filter(redemption=r, kind="return", quantity=2,
                                        stock_after=3).exists()
    with pytest.raises(Conflict):
        services.cancel(V(world.users["v1"]), r.pk)
    assert ledger.verify(world.account("v1")) == []


def test_the_monthly_limit_counts_live_redemptions(world):
    give(world.account("v1"), 200, "g")
    oil = world.items["oil"].pk
    first = services.reserve(V(world.users["v1"]), item=oil, quantity=2).redemption
    with pytest.raises(Conflict, match="At most 2"):
        services.reserve(V(world.users["v1"]), item=oil, quantity=1)
    services.cancel(V(world.users["v1"]), first.pk)
    services.reserve(V(world.users["v1"]), item=oil, quantity=1)  # cancelled ones do not count


def test_a_volunteer_spends_only_at_their_communitys_shops(world, settings):
    give(world.account("v3"), 50, "g")
    with pytest.raises(NotFound):
        services.reserve(V(world.users["v3"]), item=world.items["rice"].pk, quantity=1)
    settings.GEOGRID = {**settings.GEOGRID,
                        "POINTS": {**settings.GEOGRID["POINTS"], "SPEND_SCOPE": "district"}}
    assert services.reserve(V(world.users["v3"]), item=world.items["rice"].pk,
                            quantity=1).created


def test_at_counter_redemption_with_the_volunteers_card(world):
    give(world.account("v1"), 50, "g")
    now = timezone.now()
    card = codes.card_code(world.volunteers["v1"].pk, now)
    done = services.redeem_at_counter(V(world.users["op"]), card=card,
                                      item=world.items["rice"].pk, quantity=1)
    assert done.redemption.status == "collected" and balance(world, "v1") == 40
    stale = codes.card_code(world.volunteers["v1"].pk, now - dt.timedelta(minutes=25))
    from django.core.exceptions import ValidationError
    with pytest.raises(ValidationError):
        services.redeem_at_counter(V(world.users["op"]), card=stale,
                                   item=world.items["rice"].pk, quantity=1)
    with pytest.raises(NotFound):  # not the operator of this shop
        services.redeem_at_counter(V(world.users["cs2"]), card=card,
                                   item=world.items["rice"].pk, quantity=1)


def test_expiry_returns_points_and_stock_and_runs_once(world):
    give(world.account("v1"), 100, "g")
    give(world.account("v2"), 100, "g2")
    rice = world.items["rice"]
    a = services.reserve(V(world.users["v1"]), item=rice.pk, quantity=2).redemption
    b = services.reserve(V(world.users["v2"]), item=rice.pk, quantity=1).redemption
    c = services.reserve(V(world.users["v2"]), item=world.items["oil"].pk, quantity=1
                         ).redemption
    services.collect(V(world.users["op"]), c.pickup_code)
    assert stock(rice) == 2
    assert expire_redemptions(now=timezone.now() + dt.timedelta(days=6)).expired == []
    report = expire_redemptions(now=timezone.now() + dt.timedelta(days=8))
    assert sorted(report.expired) == [a.pk, b.pk]
    assert stock(rice) == 5 and balance(world, "v1") == 100 and balance(world, "v2") == 75
    after = list(StockMovement.objects.filter(kind="return").order_by("id")
                 .values_list("quantity", "stock_after"))
    assert after == [(2, 4), (1, 5)]  # a running stock, not the final one twice
    assert Redemption.objects.get(pk=c.pk).status == "collected"
    assert expire_redemptions(now=timezone.now() + dt.timedelta(days=9)).expired == []
    call_command("expire_redemptions", verbosity=0)
    for name in ("v1", "v2"):
        assert ledger.verify(world.account(name)) == []


def test_the_database_refuses_negative_stock_duplicate_live_codes_and_history_edits(world):
    give(world.account("v1"), 100, "g")
    r = services.reserve(V(world.users["v1"]), item=world.items["rice"].pk, quantity=1
                         ).redemption
    with pytest.raises(IntegrityError, match="item_stock_not_negative"), transaction.atomic():
        Item.objects.filter(pk=world.items["rice"].pk).update(stock=-1)
    with pytest.raises(IntegrityError, match="redemption_live_pickup_code"), \
            transaction.atomic():
        Redemption.objects.create(account=r.account, item=r.item, shop=r.shop, quantity=1,
                                  points=10, pickup_code=r.pickup_code, key="other-key",
                                  expires_at=r.expires_at, reserved_by=world.users["v1"])
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE shop_stockmovement SET quantity = 5")


# -- races on real connections ---------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_redemptions_of_an_item_with_stock_three():
    w = build_world()
    item = Item.objects.create(shop=w.shop, name="抽纸", price_points=10, stock=3)
    clients = []
    for i in range(50):
        user = make_user("resident", username=f"racer{i}")
        volunteer = make_volunteer(w.grids[w.shop.community.code], user=user,
                                   display_name=f"志愿者{i}")
        give(ledger.account_for(volunteer), 15 if i % 2 else 10, f"g{i}")
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        clients.append(client)

    def post(c: Client):
        return c.post("/api/v1/shop/redemptions/", {"item": item.pk, "quantity": 1},
                      content_type="application/json").status_code

    statuses = race(*[lambda c=c: post(c) for c in clients])
    assert statuses.count(201) == 3, statuses
    assert statuses.count(409) == 47, statuses
    assert stock(item) == 0
    assert not PointsAccount.objects.filter(balance__lt=0).exists()
    assert Redemption.objects.filter(item=item).count() == 3
    assert PointsEntry.objects.filter(kind="redeem").count() == 3
    assert StockMovement.objects.filter(item=item, kind="redemption").count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_overspending_one_account():
    w = build_world()
    give(w.account("v1"), 25, "g")  # enough for two of the ten rice reservations
    Item.objects.filter(pk=w.items["rice"].pk).update(stock=20)
    results = race(*[lambda: services.reserve(V(w.users["v1"]), item=w.items["rice"].pk,
                                              quantity=1) for _ in range(10)])
    assert sum(isinstance(r, services.Reserved) for r in results) == 2
    assert sum(isinstance(r, Conflict) for r in results) == 8
    assert balance(w, "v1") == 5 and stock(w.items["rice"]) == 18
    assert ledger.verify(w.account("v1")) == []


@pytest.mark.django_db(transaction=True)
def test_cancel_and_collect_of_one_reservation_at_once_do_one_of_them():
    w = build_world()
    give(w.account("v1"), 50, "g")
    r = services.reserve(V(w.users["v1"]), item=w.items["rice"].pk, quantity=1).redemption
    results = race(*[lambda: services.cancel(V(w.users["v1"]), r.pk),
                     lambda: services.collect(V(w.users["op"]), r.pickup_code)])
    assert sum(isinstance(x, Redemption) for x in results) == 1, results
    final = Redemption.objects.get(pk=r.pk)
    if final.status == "cancelled":
        assert balance(w, "v1") == 50 and stock(w.items["rice"]) == 5
    else:
        assert final.status == "collected"
        assert balance(w, "v1") == 40 and stock(w.items["rice"]) == 4
