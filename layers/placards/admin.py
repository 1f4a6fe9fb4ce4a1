"""Admin for placards: list, filter, search by address or token, revoke (through the service,
so the timeline row and the scope check are the same as in the API). Tokens are not edited:
a damaged or leaked code is reprinted or revoked."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geogrid.capabilities import GrantedViewer
from geogrid.errors import ApiError
from layers.placards import services
from layers.placards.models import Placard, PlacardEvent


class EventInline(admin.TabularInline):
    model = PlacardEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Placard)
class PlacardAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "label", "unit_no", "status", "print_version", "created_at",
                    "revoked_at")
    list_filter = ("status", "kind", "created_at")
    search_fields = ("token", "name", "building__address")
    list_select_related = ("building",)
    inlines = [EventInline]
    actions = ["revoke_selected"]

    @admin.action(description=gettext_lazy("Revoke the selected placards"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Placard]) -> None:
        viewer = GrantedViewer(request.user)
        done, refused = 0, 0
        for pk in queryset.filter(status=Placard.Status.ACTIVE).values_list("pk", flat=True):
            try:
                services.revoke(pk, viewer, reason=_("revoked in the administration"))
                done += 1
            except ApiError:
                refused += 1
        self.message_user(request, _("%(n)d revoked, %(m)d refused (outside your grids or "
                                     "changed meanwhile).") % {"n": done, "m": refused},
                          messages.SUCCESS if not refused else messages.WARNING)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # placards are made by the API or in bulk: scope check, token, timeline

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke (the action) or reprint; the door and the token never change

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # printed codes are revoked, never deleted: reports name them
