"""Admin for micro-wishes: read-only lists for support, without the wisher. The wisher's name,
household, private title and description are not in the admin: every read of them goes
through the API, which checks the viewer's level and logs the read (docs/wishes.md). Every
change is an action of layers.wishes.services (a state check and a timeline row), so the admin
changes nothing."""

from __future__ import annotations

from django.contrib import admin

from geogrid.admin import ReadOnlyAdmin
from layers.wishes.models import Claim, Wish


@admin.register(Wish)
class WishAdmin(ReadOnlyAdmin):
    list_display = ("code", "public_title", "category", "status", "community", "grid",
                    "est_value", "posted_at", "publish_until")
    list_filter = ("status", "category")
    search_fields = ("code",)
    fields = ("code", "public_title", "category", "status", "community", "grid", "est_value",
              "points_reward", "posted_role", "posted_at", "reviewed_at", "published_at",
              "publish_until", "direct_until", "ended_at", "version")
    list_select_related = ("community", "grid")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ("id", "wish", "status", "mode", "claimant_kind", "claimed_at", "due_at",
                    "delivered_at", "confirmed_at", "ended_at")
    list_filter = ("status", "mode", "claimant_kind")
    search_fields = ("wish__code",)
    fields = ("wish", "status", "mode", "claimant_kind", "volunteer", "partner_unit",
              "claimed_at", "due_at", "delivered_at", "confirmed_at", "confirmed_as",
              "ended_at", "version")
    list_select_related = ("wish",)
