"""Admin for grids (with the Leaflet map widget) and staff posts."""

from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from geogrid.models import Grid, StaffAssignment, WorkingDayOverride

admin.site.site_header = admin.site.site_title = "GeoGrid"


class StaffInline(admin.TabularInline):
    model = StaffAssignment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Grid)
class GridAdmin(LeafletGeoAdmin):
    list_display = ["code", "name", "level", "parent", "area_display", "valid_from", "valid_to"]
    list_filter = ["level", ("valid_to", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    readonly_fields = ["area_m2", "created_at", "changed_by"]
    inlines = [StaffInline]
    list_per_page = 50

    @admin.display(description="area (km²)", ordering="area_m2")
    def area_display(self, obj: Grid) -> str:
        return f"{obj.area_m2 / 1e6:.3f}" if obj.area_m2 is not None else "—"

    def save_model(self, request, obj: Grid, form, change: bool) -> None:
        if not change:
            obj.changed_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "post", "grid", "since", "until"]
    list_filter = ["post"]
    search_fields = ["user__username", "user__first_name", "grid__code", "grid__name"]
    raw_id_fields = ["grid"]
    autocomplete_fields = ["user"]


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working", "note"]
    list_filter = ["is_working"]
    date_hierarchy = "date"
    search_fields = ["note"]
