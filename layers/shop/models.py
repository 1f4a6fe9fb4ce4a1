"""The points shop 爱心积分超市 (PEOPLE.md (d); docs/points.md).

- `Shop`: a counter in a community (a point on the map), with an opening note.
- `ShopOperator`: who works the counter, from `since` to `until` (open: until is null).
- `Item`: goods at a shop with a price in points and a stock the database keeps ≥ 0; an
  optional limit per volunteer and calendar month.
- `StockMovement`: every change of stock, append-only (a trigger refuses UPDATE and DELETE):
  a restock with its donor (a partner unit, or a business named in free text), a redemption,
  a return (cancelled or expired redemption) or an adjustment (a count), with the stock after.
- `Redemption`: points exchanged for an item. Reserved (points taken, stock taken, a pickup
  code), then collected at the counter (final), or cancelled / expired (the ledger entry is
  reversed and the stock returned). A pickup code is unique among reserved redemptions
  (partial unique index).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geogrid.models import Grid
from layers.volunteering.models import PartnerUnit, PointsAccount, PointsEntry

NOTE_MAX = 200
CODE_LENGTH = 8


class Shop(models.Model):
    community = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("community"))
    name = models.CharField(_("name"), max_length=100)
    location = models.PointField(_("location"), srid=4326)
    opening_note = models.CharField(_("opening hours"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("points shop")
        constraints = [models.UniqueConstraint(fields=["community", "name"],
                                               name="shop_name_per_community")]

    def __str__(self) -> str:
        return self.name


class ShopOperator(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="operators",
                             verbose_name=_("shop"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="+", verbose_name=_("operator"))
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("shop operator")
        constraints = [
            models.CheckConstraint(condition=Q(until__isnull=True) | Q(until__gte=F("since")),
                                   name="shop_operator_period"),
            models.UniqueConstraint(fields=["shop", "user"], condition=Q(until__isnull=True),
                                    name="shop_operator_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.shop}"


class Item(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="items",
                             verbose_name=_("shop"))
    name = models.CharField(_("name"), max_length=100)
    price_points = models.PositiveIntegerField(_("price (points)"))
    stock = models.IntegerField(_("stock"), default=0)
    monthly_limit = models.PositiveIntegerField(_("per volunteer and month at most"), null=True,
                                                blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("item")
        constraints = [
            models.CheckConstraint(condition=Q(price_points__gt=0), name="item_price_positive"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="item_stock_not_negative"),
            models.CheckConstraint(condition=Q(monthly_limit__isnull=True)
                                   | Q(monthly_limit__gt=0), name="item_limit_positive"),
            models.UniqueConstraint(fields=["shop", "name"], name="item_name_per_shop"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.price_points})"


class Redemption(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", _("reserved")
        COLLECTED = "collected", _("collected")
        CANCELLED = "cancelled", _("cancelled")
        EXPIRED = "expired", _("expired")

    account = models.ForeignKey(PointsAccount, on_delete=models.PROTECT,
                                related_name="redemptions", verbose_name=_("account"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="redemptions",
                             verbose_name=_("item"))
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="redemptions",
                             verbose_name=_("shop"))  # the item's, kept for scoped lists
    quantity = models.PositiveIntegerField(_("quantity"))
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.RESERVED)
    pickup_code = models.CharField(_("pickup code"), max_length=CODE_LENGTH)
    # The client's idempotency key: a retried reservation returns the first one.
    key = models.CharField(_("idempotency key"), max_length=80, unique=True)
    reserved_at = models.DateTimeField(_("reserved at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    reserved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reserved by"))
    closed_at = models.DateTimeField(_("collected, cancelled or expired at"), null=True,
                                     blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("collected or cancelled by"))
    # The redeem entry (set in the reserving transaction, right after the row exists) and the
    # reversal of a cancelled or expired redemption.
    entry = models.OneToOneField(PointsEntry, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+", verbose_name=_("redeem entry"))
    reversal = models.OneToOneField(PointsEntry, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("reversal entry"))

    class Meta:
        verbose_name = _("redemption")
        indexes = [models.Index(fields=["account", "item", "reserved_at"],
                                name="redemption_account_item"),
                   models.Index(fields=["shop", "status"], name="redemption_shop"),
                   models.Index(fields=["expires_at"], condition=Q(status="reserved"),
                                name="redemption_reserved_expiry")]
        constraints = [
            models.UniqueConstraint(fields=["pickup_code"], condition=Q(status="reserved"),
                                    name="redemption_live_pickup_code"),
            models.CheckConstraint(condition=Q(quantity__gt=0, points__gt=0),
                                   name="redemption_positive"),
            models.CheckConstraint(
                condition=Q(status="reserved", closed_at__isnull=True)
                | (~Q(status="reserved") & Q(closed_at__isnull=False)),
                name="redemption_closed_at"),
            models.CheckConstraint(
                condition=Q(status__in=("cancelled", "expired"), reversal__isnull=False)
                | (~Q(status__in=("cancelled", "expired")) & Q(reversal__isnull=True)),
                name="redemption_reversed_when_returned"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("reserved_at")),
                                   name="redemption_expiry_after_reserve"),
        ]

    def __str__(self) -> str:
        return f"{self.pickup_code} {self.status}"


class StockMovement(models.Model):
    class Kind(models.TextChoices):
        RESTOCK = "restock", _("restock")
        REDEMPTION = "redemption", _("redemption")
        RETURN = "return", _("return")
        ADJUSTMENT = "adjustment", _("adjustment")

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="movements",
                             verbose_name=_("item"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    quantity = models.IntegerField(_("quantity"))  # signed: + in, − out
    stock_after = models.IntegerField(_("stock after"))
    donor_unit = models.ForeignKey(PartnerUnit, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="donations", verbose_name=_("donor unit"))
    donor_name = models.CharField(_("donor"), max_length=100, blank=True)
    redemption = models.ForeignKey(Redemption, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="movements", verbose_name=_("redemption"))
    note = models.CharField(_("note"), max_length=NOTE_MAX, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("by"))
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("stock movement")
        indexes = [models.Index(fields=["item", "id"], name="stock_movement_item")]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stock_movement_not_zero"),
            models.CheckConstraint(condition=Q(stock_after__gte=0),
                                   name="stock_movement_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(kind__in=("restock", "return"), quantity__gt=0)
                | Q(kind="redemption", quantity__lt=0) | Q(kind="adjustment"),
                name="stock_movement_sign_by_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=("redemption", "return"), redemption__isnull=False)
                | (~Q(kind__in=("redemption", "return")) & Q(redemption__isnull=True)),
                name="stock_movement_redemption"),
            models.CheckConstraint(
                condition=Q(kind="restock") | Q(donor_unit__isnull=True, donor_name=""),
                name="stock_movement_donor_on_restock"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} → {self.stock_after}"
