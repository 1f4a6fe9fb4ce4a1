from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from layers.appeals.models import (
    Appeal,
    AppealEvent,
    AppealPhoto,
    Category,
    Department,
    Notification,
    Reassignment,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "major_zh", "name_zh", "name_en", "kind", "deadline_class",
                    "deadline_value", "deadline_unit", "active"]
    list_filter = ["kind", "deadline_class", "active"]
    search_fields = ["code", "name_zh", "name_en"]


class PhotoInline(admin.TabularInline):
    model = AppealPhoto
    extra = 0
    readonly_fields = ["image", "thumbnail", "content_type", "width", "height", "size_bytes"]


class EventInline(admin.TabularInline):
    # The timeline is immutable (a trigger refuses UPDATE): read-only here.
    model = AppealEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "actor", "actor_role", "from_status", "to_status", "note",
                       "data")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Appeal)
class AppealAdmin(LeafletGeoAdmin):
    list_display = ["tracking", "category", "channel", "status", "assignment", "grid",
                    "reported_at"]
    list_filter = ["status", "assignment", "channel", "category"]
    search_fields = ["tracking", "address", "source_ref"]
    raw_id_fields = ["grid", "building", "reporter"]
    # Workflow columns change only through layers.appeals.workflow (versioned, with timeline rows).
    readonly_fields = ["tracking", "token_hash", "raw_x", "raw_y", "raw_crs", "created_at",
                       "status", "version", "assigned_grid", "department", "escalation_level",
                       "accepted_at", "dispatched_at", "due_at", "resolved_at", "checked_at",
                       "closed_at", "on_time", "handling_minutes", "satisfaction", "resolution",
                       "supporters", "merged_into"]
    inlines = [PhotoInline, EventInline]
    list_per_page = 50


@admin.register(Reassignment)
class ReassignmentAdmin(admin.ModelAdmin):
    list_display = ["at", "appeal", "building", "old_grid", "new_grid", "new_method"]
    raw_id_fields = ["appeal", "building", "old_grid", "new_grid"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "district_code", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name_zh", "name_en"]
    filter_horizontal = ["members"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "appeal", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "appeal"]
