"""Open311 updates in the admin: read-only (they are what a client posted and what it did)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from layers.open311.models import Open311Update


@admin.register(Open311Update)
class Open311UpdateAdmin(admin.ModelAdmin):
    list_display = ("received_at", "client", "update_id", "appeal", "status", "actions")
    list_filter = ("client", "status")
    search_fields = ("update_id", "appeal__tracking")
    list_select_related = ("client", "appeal")
    readonly_fields = ("client", "update_id", "appeal", "status", "actions", "event",
                       "description", "client_datetime", "received_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
