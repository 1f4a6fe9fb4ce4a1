"""The shop's actions, each one transaction.

    reserve          a volunteer reserves an item: stock, points and a pickup code at once
    collect          an operator of the shop hands it over for the pickup code (final)
    redeem_at_counter  an operator redeems for a volunteer showing their card: reserve + collect
    cancel           the volunteer or an operator: points reversed, stock returned
    restock          staff or an operator, with the donor; adjust_stock after a count (staff)
    add_item         staff add an item to a shop

Reserve, in one transaction: lock the account (ledger.lock), return the first result of a
repeated key, check the monthly limit, write the redemption and post the redeem entry (409 when
the points are short), and take the stock last with
`UPDATE item SET stock = stock - q WHERE id = … AND stock >= q` (no row: 409 out of stock, and
the rollback takes the entry back), then the stock movement. Concurrent reservations of one
item queue on its row only from that UPDATE to their commit; of one account on the account
row. (bench/bench_points.py compares it with locking the item first.)

Locks are always taken in the order redemption → account → item, so cancel, expiry and
reserve cannot deadlock one another.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from geogrid.errors import Conflict, NotFound, integrity_conflict
from layers.shop import codes
from layers.shop.access import ShopViewer
from layers.shop.models import Item, Redemption, Shop, StockMovement
from layers.volunteering import ledger
from layers.volunteering.ledger import Source
from layers.volunteering.models import EntryKind, PartnerUnit, Volunteer

S = Redemption.Status
LIVE = (S.RESERVED, S.COLLECTED)  # what counts for the monthly limit
CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Reserved:
    redemption: Redemption
    created: bool  # False: the key had been used; this is the first result


def pickup_days() -> int:
    return int(settings.GEOGRID["POINTS"]["PICKUP_DAYS"])


def _month_start(now: dt.datetime) -> dt.datetime:
    day = timezone.localdate(now).replace(day=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _take_stock(item_id: int, quantity: int, price: int) -> int | None:
    """The stock after `quantity` was taken; None when the stock is short (or the item was
    switched off, or its price changed since it was read)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_item SET stock = stock - %s"
                       " WHERE id = %s AND stock >= %s AND active AND price_points = %s"
                       " RETURNING stock", [quantity, item_id, quantity, price])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _put_back(item_id: int, quantity: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE shop_item SET stock = stock + %s WHERE id = %s RETURNING stock",
                       [quantity, item_id])
        return int(cursor.fetchone()[0])


def _create_with_code(**fields: object) -> Redemption:
    """The redemption with a fresh pickup code (retried on the rare clash with a live one)."""
    for attempt in range(CODE_ATTEMPTS):
        try:
            with transaction.atomic():
                return Redemption.objects.create(pickup_code=codes.new_pickup_code(), **fields)
        except IntegrityError as exc:
            if "redemption_live_pickup_code" not in str(exc) or attempt == CODE_ATTEMPTS - 1:
                raise integrity_conflict(exc) from exc
    raise AssertionError("unreachable")


def _reserve(volunteer: Volunteer, item_id: int, quantity: int, *, key: str, by: Any,
             shop_check: Callable[[Shop], bool] | None = None) -> Reserved:
    """The reservation itself (callers check who may, inside the same transaction)."""
    account = ledger.lock(ledger.account_for(volunteer).pk)
    first = Redemption.objects.filter(key=key).first()
    if first is not None:
        if (first.account_id, first.item_id, first.quantity) == (account.pk, item_id, quantity):
            return Reserved(first, False)
        raise Conflict(_("This idempotency key was used for a different redemption."),
                       current={"redemption": first.pk})
    item = Item.objects.select_related("shop__community").filter(pk=item_id).first()
    if item is None or not item.active or not item.shop.active or (
            shop_check is not None and not shop_check(item.shop)):
        raise NotFound(_("no such item at a shop of yours"))
    now = timezone.now()
    if item.monthly_limit is not None:
        taken = Redemption.objects.filter(
            account=account, item=item, status__in=LIVE,
            reserved_at__gte=_month_start(now)).aggregate(n=Sum("quantity"))["n"] or 0
        if taken + quantity > item.monthly_limit:
            raise Conflict(_("At most %(n)d of this item a month; you have %(t)d.")
                           % {"n": item.monthly_limit, "t": taken},
                           current={"monthly_limit": item.monthly_limit, "taken": taken})
    if item.stock < quantity:  # read without a lock: sold out is answered at once
        raise Conflict(_("Out of stock."), current={"stock": item.stock})
    redemption = _create_with_code(
        account=account, item=item, shop=item.shop, quantity=quantity,
        points=item.price_points * quantity, key=key, reserved_at=now,
        expires_at=now + dt.timedelta(days=pickup_days()), reserved_by=by)
    posted = ledger.post(account.pk, -redemption.points, EntryKind.REDEEM,
                         key=f"redemption:{redemption.pk}", by=by,
                         source=Source("redemption", redemption.pk),
                         grid_id=item.shop.community_id, note=item.name[:200])
    # The stock last: the item's row stays locked only from here to the commit, so a popular
    # item is not held while the ledger is written. The price must still be the one charged.
    stock_after = _take_stock(item.pk, quantity, item.price_points)
    if stock_after is None:
        current = Item.objects.filter(pk=item.pk).values("stock", "price_points").first()
        raise Conflict(_("Out of stock.") if current and current["price_points"]
                       == item.price_points else _("The price has changed; please look again."),
                       current=current or {})
    redemption.entry = posted.entry
    redemption.save(update_fields=["entry"])
    StockMovement.objects.create(item=item, kind=StockMovement.Kind.REDEMPTION,
                                 quantity=-quantity, stock_after=stock_after,
                                 redemption=redemption, created_by=by, created_at=now)
    return Reserved(redemption, True)


def reserve(viewer: ShopViewer, *, item: int, quantity: int, key: str | None = None) -> Reserved:
    """The viewer (an active volunteer) reserves `quantity` of `item` at a shop they may spend
    at; the points are taken now and the item waits PICKUP_DAYS for its pickup code."""
    volunteer = viewer.volunteer
    if volunteer is None or not volunteer.active:
        raise PermissionDenied(_("only an active volunteer redeems points"))
    try:
        with transaction.atomic():
            return _reserve(volunteer, item, quantity, key=key or uuid.uuid4().hex,
                            by=viewer.user, shop_check=viewer.spends_at)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _collect(r: Redemption, by: Any, now: dt.datetime) -> Redemption:
    r.status, r.closed_at, r.closed_by = S.COLLECTED, now, by
    r.save(update_fields=["status", "closed_at", "closed_by"])
    return r


def find_reserved(viewer: ShopViewer, code: str, *, lock: bool = False) -> Redemption:
    """The reserved redemption with this pickup code at a shop the viewer operates (404
    otherwise: a code of another shop is not confirmed to exist)."""
    code = codes.normalise(code)
    rows = Redemption.objects.filter(pickup_code=code, status=S.RESERVED)
    if not viewer.is_super:
        rows = rows.filter(shop_id__in=viewer.operated)
    if lock:
        rows = rows.select_for_update(of=("self",))
    found = (rows.select_related("item", "shop", "account__volunteer").first()
             if codes.is_pickup_code(code) else None)
    if found is None:
        raise NotFound(_("no reserved redemption with this code at your shop"))
    return found


def collect(viewer: ShopViewer, code: str) -> Redemption:
    """Hand the item over: collected is final."""
    with transaction.atomic():
        r = find_reserved(viewer, code, lock=True)
        now = timezone.now()
        if r.expires_at <= now:
            raise Conflict(_("This reservation has expired."), current={"status": "expired"})
        return _collect(r, viewer.user, now)


def redeem_at_counter(viewer: ShopViewer, *, card: str, item: int, quantity: int,
                      key: str | None = None) -> Reserved:
    """A volunteer at the counter shows their card; the operator redeems for them and hands the
    item over at once (reserve + collect in one transaction)."""
    now = timezone.now()
    volunteer_id = codes.volunteer_for_card(card, now)
    volunteer = Volunteer.objects.filter(pk=volunteer_id, active=True).select_related(
        "community").first() if volunteer_id else None
    if volunteer is None:
        raise ValidationError({"card": _("this card code is not valid (any more)")})
    helper = ShopViewer(volunteer.user)

    def at_own_counter(shop: Shop) -> bool:
        return viewer.operates(shop) and helper.spends_at(shop)

    try:
        with transaction.atomic():
            done = _reserve(volunteer, item, quantity, key=key or uuid.uuid4().hex,
                            by=viewer.user, shop_check=at_own_counter)
            r = Redemption.objects.select_for_update().get(pk=done.redemption.pk)
            if r.status == S.RESERVED:
                r = _collect(r, viewer.user, timezone.now())
            return Reserved(r, done.created)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc


def _return(r: Redemption, status: str, by: Any, now: dt.datetime, note: str) -> Redemption:
    """Reverse the points and return the stock of a reserved redemption (locked by the caller).
    """
    assert r.entry is not None
    r.reversal = ledger.reverse(r.entry, key=f"redemption:{r.pk}:return", by=by,
                                note=note).entry
    stock_after = _put_back(r.item_id, r.quantity)
    StockMovement.objects.create(item_id=r.item_id, kind=StockMovement.Kind.RETURN,
                                 quantity=r.quantity, stock_after=stock_after, redemption=r,
                                 created_by=by, created_at=now, note=note)
    r.status, r.closed_at, r.closed_by = status, now, by
    r.save(update_fields=["status", "closed_at", "closed_by", "reversal"])
    return r


def redemption_for(viewer: ShopViewer, pk: int, *, lock: bool = False) -> Redemption:
    """A redemption the viewer may see: their own, or one of a shop they operate (404)."""
    rows = Redemption.objects.select_related("item", "shop", "account__volunteer", "entry")
    if lock:
        rows = rows.select_for_update(of=("self",))
    r = rows.filter(pk=pk).first()
    if r is None or not (viewer.is_super or r.shop_id in viewer.operated
                         or viewer.owns(r.account.volunteer_id)):
        raise NotFound(_("no such redemption"))
    return r


def cancel(viewer: ShopViewer, pk: int, *, reason: str = "") -> Redemption:
    """A reservation not wanted any more: the volunteer's own, or by an operator of the shop.
    Points back, stock back; a collected redemption is final (409)."""
    with transaction.atomic():
        r = redemption_for(viewer, pk, lock=True)
        if r.status != S.RESERVED:
            raise Conflict(_("not possible in state %(s)s") % {"s": r.status},
                           current={"status": r.status})
        return _return(r, S.CANCELLED, viewer.user, timezone.now(), reason[:200])


# -- stock ----------------------------------------------------------------------------------
def item_for(viewer: ShopViewer, pk: int, *, operator_too: bool) -> Item:
    item = Item.objects.select_related("shop__community").filter(pk=pk).first()
    if item is None:
        raise NotFound(_("no such item"))
    allowed = viewer.manages(item.shop) or (operator_too and viewer.operates(item.shop))
    if not allowed:
        if item.shop.active and (viewer.spends_at(item.shop) or viewer.operates(item.shop)):
            raise PermissionDenied(_("you may not change this shop's stock"))
        raise NotFound(_("no such item"))
    return item


def restock(viewer: ShopViewer, item: int, *, quantity: int, donor_unit: int | None = None,
            donor_name: str = "", note: str = "") -> StockMovement:
    """Goods in, with the donor: a partner unit (共建单位) or a business named in text."""
    found = item_for(viewer, item, operator_too=True)
    unit = None
    if donor_unit is not None:
        unit = PartnerUnit.objects.filter(pk=donor_unit, active=True).first()
        if unit is None:
            raise ValidationError({"donor_unit": _("no such partner unit")})
    with transaction.atomic():
        stock_after = _put_back(found.pk, quantity)
        return StockMovement.objects.create(
            item=found, kind=StockMovement.Kind.RESTOCK, quantity=quantity,
            stock_after=stock_after, donor_unit=unit, donor_name=donor_name, note=note,
            created_by=viewer.user)


def adjust_stock(viewer: ShopViewer, item: int, *, quantity: int, reason: str) -> StockMovement:
    """After a count: staff of the shop's community correct the stock (never below zero)."""
    found = item_for(viewer, item, operator_too=False)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE shop_item SET stock = stock + %s WHERE id = %s"
                       " AND stock + %s >= 0 RETURNING stock", [quantity, found.pk, quantity])
        row = cursor.fetchone()
        if row is None:
            raise Conflict(_("The stock would go below zero."),
                           current={"stock": Item.objects.get(pk=found.pk).stock})
        return StockMovement.objects.create(
            item=found, kind=StockMovement.Kind.ADJUSTMENT, quantity=quantity,
            stock_after=int(row[0]), note=reason, created_by=viewer.user)


def add_item(viewer: ShopViewer, shop: int, *, name: str, price_points: int,
             monthly_limit: int | None = None) -> Item:
    found = Shop.objects.select_related("community").filter(pk=shop).first()
    if found is None or not viewer.manages(found):
        raise NotFound(_("no such shop in your scope"))
    try:
        with transaction.atomic():
            return Item.objects.create(shop=found, name=name, price_points=price_points,
                                       monthly_limit=monthly_limit)
    except IntegrityError as exc:
        raise integrity_conflict(exc) from exc
