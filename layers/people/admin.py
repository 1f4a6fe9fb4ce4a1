"""Admin for the people layer: micro-units and leader terms are edited here, dwellings shown
read-only. Households, persons and the change log are not in the admin at all: every read of
them goes through the API, which masks and logs it (docs/privacy.md)."""

from __future__ import annotations

from django.contrib import admin

from geogrid.admin import ReadOnlyAdmin
from layers.people.models import BuildingLeaderTerm, Dwelling, MicroUnit, MicroUnitLeaderTerm


class LeaderTermInline(admin.TabularInline):
    model = MicroUnitLeaderTerm
    extra = 0
    raw_id_fields = ("user",)


@admin.register(MicroUnit)
class MicroUnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "grid", "needs_review")
    list_filter = ("needs_review",)
    search_fields = ("code", "name")
    raw_id_fields = ("grid",)
    inlines = [LeaderTermInline]


@admin.register(BuildingLeaderTerm)
class BuildingLeaderTermAdmin(admin.ModelAdmin):
    list_display = ("building", "user", "since", "until")
    raw_id_fields = ("building", "user")


@admin.register(Dwelling)
class DwellingAdmin(ReadOnlyAdmin):
    list_display = ("building", "unit_no", "room_no", "usage", "micro_unit")
    list_filter = ("usage",)
