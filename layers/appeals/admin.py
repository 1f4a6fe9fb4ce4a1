"""Admin of the appeals layer. An appeal changes only through its services (intake, the workflow
actions of layers.appeals.transitions, re-assignment): the admin shows it — its location on a
map, its photos through the access-checked photo view, its timeline — and edits nothing.
Categories, departments and notifications are plain tables."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from geogrid.admin import NO_SAVE, freeze_map
from layers.appeals.models import (
    Appeal,
    AppealEvent,
    AppealPhoto,
    Category,
    Department,
    Notification,
    Reassignment,
)
from layers.appeals.photo_views import photo_url


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "major_zh", "name_zh", "name_en", "kind", "deadline_class",
                    "deadline_value", "deadline_unit", "active"]
    list_filter = ["kind", "deadline_class", "active"]
    search_fields = ["code", "name_zh", "name_en"]


class PhotoInline(admin.TabularInline):
    # Stored by the intake and resolve services (checked, metadata stripped): read-only here,
    # linked to the view that checks access (MEDIA_URL serves nothing).
    model = AppealPhoto
    extra = 0
    can_delete = False
    fields = readonly_fields = ("photo", "content_type", "width", "height", "size_bytes",
                                "event")

    @admin.display(description=_("photo"))
    def photo(self, obj: AppealPhoto) -> str:
        tracking = obj.appeal.tracking
        return format_html('<a href="{}"><img src="{}" alt="" height="60"></a>',
                           photo_url(tracking, obj.pk), photo_url(tracking, obj.pk,
                                                                  thumbnail=True))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
    # Nothing is edited here: the workflow columns change through the actions (versioned, with
    # timeline rows), the grid through re-assignment, the report as the resident sent it. The
    # location stays on a map that cannot be drawn on; there is no save button, and a posted
    # form changes nothing (save_model).
    inlines = [PhotoInline, EventInline]
    list_per_page = 50

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Appeal._meta.concrete_fields
                if f.name not in ("id", "token_hash", "location")]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        freeze_map(form, "location")
        return form

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), **NO_SAVE})

    def save_model(self, request: HttpRequest, obj: Appeal, form: Any, change: bool) -> None:
        pass  # never write the row: it would overwrite what the workflow did meanwhile

    def save_related(self, request: HttpRequest, form: Any, formsets: Any,
                     change: bool) -> None:
        pass

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # appeals come in through the intake (API, report page, importer)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record and its timeline are the audit trail


@admin.register(Reassignment)
class ReassignmentAdmin(admin.ModelAdmin):
    """The log of re-assignments after boundary changes (layers.appeals.reassign): read-only."""

    list_display = ["at", "appeal", "building", "old_grid", "new_grid", "new_method"]
    raw_id_fields = ["appeal", "building", "old_grid", "new_grid"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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
