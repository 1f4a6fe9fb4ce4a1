"""Admin for volunteering. Partner units, volunteers and rules are edited here; the ledger,
service records, applications and adjustments are read-only (they change only through their
actions, which check who may and keep the ledger in step), and nothing is deleted."""

from __future__ import annotations

from django.contrib import admin

from geogrid.admin import ReadOnlyAdmin
from layers.volunteering.models import (
    PartnerUnit,
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    PointsRule,
    ServiceRecord,
    Volunteer,
    VolunteerApplication,
)


class NoDelete(admin.ModelAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the ledger and the records refer to them; deactivate instead


@admin.register(PartnerUnit)
class PartnerUnitAdmin(NoDelete):
    list_display = ("name", "kind", "community", "active")
    list_filter = ("kind", "active")
    search_fields = ("name",)
    raw_id_fields = ("community",)
    filter_horizontal = ("members",)


@admin.register(Volunteer)
class VolunteerAdmin(NoDelete):
    list_display = ("display_name", "kind", "community", "partner_unit", "active",
                    "registered_at")
    list_filter = ("kind", "active")
    search_fields = ("display_name",)
    raw_id_fields = ("user", "person", "community", "partner_unit")


@admin.register(PointsRule)
class PointsRuleAdmin(NoDelete):
    list_display = ("code", "name", "points_per_unit", "unit", "max_units_per_activity",
                    "daily_cap", "active")


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyAdmin):
    list_display = ("volunteer", "balance", "updated_at")


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "kind", "amount", "balance_after", "rule",
                    "source_type", "source_id")
    list_filter = ("kind", "rule", "source_type")
    date_hierarchy = "created_at"


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ("served_on", "volunteer", "activity", "hours", "status", "grid")
    list_filter = ("status",)


@admin.register(VolunteerApplication)
class VolunteerApplicationAdmin(ReadOnlyAdmin):
    list_display = ("applied_at", "display_name", "community", "status")
    list_filter = ("status",)


@admin.register(PointsAdjustment)
class PointsAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("proposed_at", "account", "amount", "status", "proposed_by", "decided_by")
    list_filter = ("status",)
