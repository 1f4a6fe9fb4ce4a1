"""Admin for the points shop: shops, their operators and items are set up here (stock moves
only through restock, adjustment and redemptions, so it is read-only); movements and
redemptions are read-only, and nothing is deleted."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin

from geogrid.admin import ReadOnlyAdmin
from layers.shop.models import Item, Redemption, Shop, ShopOperator, StockMovement


class OperatorInline(admin.TabularInline):
    model = ShopOperator
    extra = 0
    raw_id_fields = ("user",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # end a term with `until` instead


@admin.register(Shop)
class ShopAdmin(GISModelAdmin):
    list_display = ("name", "community", "active", "opening_note")
    list_filter = ("active",)
    search_fields = ("name",)
    raw_id_fields = ("community",)
    inlines = [OperatorInline]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("name", "shop", "price_points", "stock", "monthly_limit", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    readonly_fields = ("stock",)  # moved by restock/adjust/redemptions, each with a movement

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "item", "kind", "quantity", "stock_after", "donor_unit",
                    "donor_name")
    list_filter = ("kind",)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ("reserved_at", "shop", "item", "quantity", "points", "status")
    list_filter = ("status",)
    exclude = ("pickup_code", "key")  # a live code is the volunteer's
