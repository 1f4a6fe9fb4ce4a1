"""Points shop reservations per second under concurrency, and the points figures on the sample.

    DATABASE_URL=… .venv/bin/python bench/bench_points.py [--threads 1 2 4 8] [--per-thread 150]

Run on demand (not part of the suite), against a database with the county sample and the points
sample loaded (fixtures.load_points). It adds its own shop, 400 volunteers with a million points
each and 200 items with a million in stock (names starting with "bench-"), and removes them at
the end inside a transaction that may purge the append-only tables (geogrid.dbtriggers.purging).

Reservations (layers.shop.services.reserve, the whole transaction: account lock, monthly limit,
the stock, the redemption, the signed ledger entry, the stock movement), each thread on its own
connection with its own volunteers (so only the item rows are shared):

- hot: every thread reserves the same item;
- spread: each reservation a random one of the 200 items;

for the service as built — the conditional `UPDATE item SET stock = stock - q WHERE stock >= q`
after the account lock — and for the obvious alternative, a Python read-check-write that locks
the item first (`SELECT … FOR UPDATE`, check, save) and then does the rest.

Figures: layers.volunteering.figures for the whole district by community / zone / micro-grid and
layers.shop.figures by community, p50 of --runs calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from geogrid.dbtriggers import purging  # noqa: E402
from geogrid.errors import Conflict  # noqa: E402
from geogrid.models import Grid  # noqa: E402
from layers.shop import services  # noqa: E402
from layers.shop.access import ShopViewer  # noqa: E402
from layers.shop.models import Item, Shop, StockMovement  # noqa: E402
from layers.volunteering import ledger  # noqa: E402
from layers.volunteering.ledger import Source  # noqa: E402
from layers.volunteering.models import EntryKind, Volunteer  # noqa: E402

VOLUNTEERS = 400
ITEMS = 200


def setup() -> tuple[Shop, list[Item], list[Volunteer]]:
    from django.contrib.auth import get_user_model

    community = Grid.objects.current().filter(level=3).order_by("code").first()
    assert community is not None, "load the county sample first"
    shop = Shop.objects.create(community=community, name="bench-shop",
                               location=Point(117.8, 26.4, srid=4326))
    items = Item.objects.bulk_create(
        Item(shop=shop, name=f"bench-item-{i}", price_points=1, stock=1_000_000)
        for i in range(ITEMS))
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-vol-{i}", password="!") for i in range(VOLUNTEERS))
    volunteers = Volunteer.objects.bulk_create(
        Volunteer(user=u, display_name=f"bench{i}", community=community)
        for i, u in enumerate(users))
    for v in volunteers:
        ledger.post(ledger.account_for(v).pk, 1_000_000, EntryKind.EARN, key=f"bench-{v.pk}",
                    source=Source("bench", v.pk), grid_id=community.pk)
    return shop, items, volunteers


def teardown() -> None:
    """Remove every bench row (raw SQL: the ORM's cascade would visit other layers' tables)."""
    with transaction.atomic(), purging(), connection.cursor() as cursor:
        cursor.execute("""
            CREATE TEMP TABLE _bench_accounts ON COMMIT DROP AS
            SELECT a.id, v.id AS volunteer, v.user_id FROM volunteering_pointsaccount a
            JOIN volunteering_volunteer v ON v.id = a.volunteer_id
            JOIN auth_user u ON u.id = v.user_id WHERE u.username LIKE 'bench-vol-%%'""")
        for sql in (
            "DELETE FROM shop_stockmovement m USING shop_item i, shop_shop s"
            " WHERE m.item_id = i.id AND i.shop_id = s.id AND s.name = 'bench-shop'",
            "DELETE FROM shop_redemption r USING shop_shop s"
            " WHERE r.shop_id = s.id AND s.name = 'bench-shop'",
            "DELETE FROM volunteering_pointsentry WHERE reverses_id IS NOT NULL"
            " AND account_id IN (SELECT id FROM _bench_accounts)",
            "DELETE FROM volunteering_pointsentry"
            " WHERE account_id IN (SELECT id FROM _bench_accounts)",
            "DELETE FROM volunteering_pointsaccount WHERE id IN (SELECT id FROM _bench_accounts)",
            "DELETE FROM volunteering_volunteer"
            " WHERE id IN (SELECT volunteer FROM _bench_accounts)",
            "DELETE FROM auth_user WHERE username LIKE 'bench-vol-%%'",
            "DELETE FROM shop_item i USING shop_shop s"
            " WHERE i.shop_id = s.id AND s.name = 'bench-shop'",
            "DELETE FROM shop_shop WHERE name = 'bench-shop'",
        ):
            cursor.execute(sql)


def locking_first(viewer: ShopViewer, *, item: int, quantity: int) -> object:
    """The obvious alternative: lock the item row first, check and write the stock in Python,
    then the redemption, the ledger entry and the movement."""
    volunteer = viewer.volunteer
    assert volunteer is not None
    with transaction.atomic():
        found = Item.objects.select_for_update().select_related("shop").get(pk=item)
        if found.stock < quantity:
            raise Conflict("Out of stock.")
        found.stock -= quantity
        found.save(update_fields=["stock"])
        account = ledger.lock(ledger.account_for(volunteer).pk)
        now = timezone.now()
        r = services._create_with_code(
            account=account, item=found, shop=found.shop, quantity=quantity,
            points=found.price_points * quantity, key=f"alt-{os.urandom(8).hex()}",
            reserved_at=now, expires_at=now + dt.timedelta(days=7),
            reserved_by=viewer.user)
        r.entry = ledger.post(account.pk, -r.points, EntryKind.REDEEM,
                              key=f"redemption:{r.pk}", source=Source("redemption", r.pk),
                              grid_id=found.shop.community_id).entry
        r.save(update_fields=["entry"])
        StockMovement.objects.create(item=found, kind="redemption", quantity=-quantity,
                                     stock_after=found.stock, redemption=r)
        return r


def run(threads: int, per_thread: int, volunteers: list[Volunteer], pick: Callable[[], int],
        reserve: Callable[..., object]) -> tuple[float, int]:
    """Reservations per second with `threads` threads; the number refused (should be 0)."""
    barrier = threading.Barrier(threads + 1)
    refused = [0] * threads
    viewers = [ShopViewer(v.user) for v in volunteers]
    for viewer in viewers:
        _ = viewer.volunteer  # read once, outside the timing

    def work(t: int) -> None:
        mine = viewers[t::threads]
        barrier.wait()
        try:
            for i in range(per_thread):
                try:
                    reserve(mine[i % len(mine)], item=pick(), quantity=1)
                except Conflict:
                    refused[t] += 1
        finally:
            connection.close()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for p in pool:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    for p in pool:
        p.join()
    elapsed = time.perf_counter() - started
    return threads * per_thread / elapsed, sum(refused)


def figures(runs: int) -> None:
    from layers.shop.figures import shop_figures
    from layers.volunteering.figures import FigureQuery, points_figures

    district = Grid.objects.current().filter(level=1).order_by("code").first()
    assert district is not None
    for by in (3, 4, 5):
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            out = points_figures(FigureQuery(district.code, by))
            times.append(time.perf_counter() - t)
        print(f"points figures by level {by}: p50 {statistics.median(times) * 1000:.0f} ms "
              f"({len(out['rows'])} rows; total {out['total']})")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        shop = shop_figures(FigureQuery(district.code, 3))
        times.append(time.perf_counter() - t)
    print(f"shop figures by community: p50 {statistics.median(times) * 1000:.0f} ms "
          f"(total {shop['total']})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--per-thread", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from layers.volunteering.models import PointsEntry

    print(f"ledger: {PointsEntry.objects.count():,} entries; cores: {os.cpu_count()}")
    figures(args.runs)
    teardown()  # what a run that was stopped left behind
    _shop, items, volunteers = setup()
    rng = np.random.default_rng(1)
    ids = [i.pk for i in items]
    try:
        for name, reserve in (("conditional UPDATE (built)", services.reserve),
                              ("SELECT FOR UPDATE first", locking_first)):
            for label, pick in (("hot item", lambda: ids[0]),
                                ("200 items", lambda: ids[int(rng.integers(0, ITEMS))])):
                for n in args.threads:
                    rate, refused = run(n, args.per_thread, volunteers, pick, reserve)
                    print(f"{name:28} {label:10} {n} threads: {rate:7.0f} reservations/s"
                          + (f" ({refused} refused)" if refused else ""))
    finally:
        teardown()


if __name__ == "__main__":
    main()
