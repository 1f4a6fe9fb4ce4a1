"""Property: after any sequence of earning, reserving, collecting, cancelling, expiring
reservations, reversing earns and expiring points — on a clock that moves forward by random
days — every account's cached balance is the sum of its entries and never negative, `verify()`
finds nothing, and every item's stock is its opening stock plus its movements."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geogrid.errors import Conflict, NotFound
from layers.shop import services as shop
from layers.shop.access import ShopViewer
from layers.shop.expiry import expire_redemptions
from layers.shop.models import Item, Redemption, StockMovement
from layers.volunteering import ledger
from layers.volunteering.expiry import expire_points
from layers.volunteering.ledger import Source
from layers.volunteering.models import EntryKind, PointsAccount, PointsEntry

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)
VOLUNTEERS = ("v1", "v2")

step = st.one_of(
    st.tuples(st.just("earn"), st.sampled_from(VOLUNTEERS), st.integers(1, 40)),
    st.tuples(st.just("reserve"), st.sampled_from(VOLUNTEERS), st.sampled_from(("rice", "oil")),
              st.integers(1, 3)),
    st.tuples(st.just("collect"), st.integers(0, 20)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
    st.tuples(st.just("expire_reservations")),
    st.tuples(st.just("expire_points")),
)


def _apply(world, op: tuple, now: dt.datetime, n: int) -> None:
    kind = op[0]
    if kind == "earn":
        ledger.post(world.account(op[1]).pk, op[2], EntryKind.EARN, key=f"earn-{n}",
                    source=Source("test", n))
    elif kind == "reserve":
        shop.reserve(ShopViewer(world.users[op[1]]), item=world.items[op[2]].pk,
                     quantity=op[3])
    elif kind in ("collect", "cancel"):
        live = list(Redemption.objects.filter(status="reserved").order_by("id"))
        if live:
            r = live[op[1] % len(live)]
            if kind == "collect":
                shop.collect(ShopViewer(world.users["op"]), r.pickup_code)
            else:
                shop.cancel(ShopViewer(world.users["op"]), r.pk)
    elif kind == "reverse":
        earns = list(PointsEntry.objects.filter(kind="earn").order_by("id"))
        if earns:
            ledger.reverse(earns[op[1] % len(earns)], key=f"reverse-{n}")
    elif kind == "expire_reservations":
        expire_redemptions(now)
    else:
        expire_points(now, years=1)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(step, st.integers(0, 120)), min_size=1, max_size=25))
def test_the_ledger_adds_up_after_any_sequence(world, steps):
    opening = {i.pk: i.stock for i in Item.objects.all()}
    with transaction.atomic():
        now = START
        for n, (op, days) in enumerate(steps):
            now += dt.timedelta(days=days)
            with mock.patch("django.utils.timezone.now", return_value=now):
                try:
                    with transaction.atomic():
                        _apply(world, op, now, n)
                except (Conflict, NotFound):
                    pass  # refused (no points, no stock, expired, reversed…): nothing changed
        for account in PointsAccount.objects.all():
            total = account.entries.aggregate(s=Sum("amount"))["s"] or 0
            assert account.balance == total >= 0
            assert ledger.verify(account) == []
        for item in Item.objects.all():
            moved = item.movements.aggregate(s=Sum("quantity"))["s"] or 0
            assert item.stock == opening[item.pk] + moved >= 0
            last = item.movements.order_by("-id").first()
            assert last is None or last.stock_after == item.stock
        assert not StockMovement.objects.filter(stock_after__lt=0).exists()
        transaction.set_rollback(True)
