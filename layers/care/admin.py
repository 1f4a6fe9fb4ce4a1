"""Admin for care: the groups are data (a deployment adds its own) and extra rounds are listed.
Subjects, visits and the timeline are not in the admin: every read of them goes through the
API, which hides the groups from those who may not see them and logs the read (docs/care.md)."""

from __future__ import annotations

from django.contrib import admin

from geogrid.admin import ReadOnlyAdmin
from layers.care.models import CareGroup, ExtraRound


@admin.register(CareGroup)
class CareGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name", "active")
    list_filter = ("active",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # subjects refer to it; deactivate instead


@admin.register(ExtraRound)
class ExtraRoundAdmin(ReadOnlyAdmin):
    list_display = ("ordered_at", "grid", "reason", "colours", "due_at", "subjects",
                    "ordered_by")
