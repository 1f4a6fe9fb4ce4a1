"""Admin: proposals with their meetings, decision and project inline; offers. The timeline is
read-only (append-only in the database)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from layers.deliberation.models import (
    Decision,
    Meeting,
    Offer,
    Project,
    Proposal,
    ProposalAppeal,
    ProposalEvent,
)


class MeetingInline(admin.TabularInline):
    model = Meeting
    extra = 0
    fields = ("held_at", "venue", "place", *Meeting.ATTENDANCE)
    readonly_fields = fields


class DecisionInline(admin.StackedInline):
    model = Decision
    extra = 0
    readonly_fields = ("text", "votes_for", "votes_against", "votes_abstain", "published_from",
                       "publish_until")
    fields = readonly_fields


class ProjectInline(admin.StackedInline):
    model = Project
    extra = 0
    readonly_fields = ("owner", "due_on", "status", "started_at", "ended_at")
    fields = readonly_fields


class LinkInline(admin.TabularInline):
    model = ProposalAppeal
    extra = 0
    raw_id_fields = ["appeal"]
    readonly_fields = ["linked_at", "fallback_limit_at"]


class EventInline(admin.TabularInline):
    model = ProposalEvent
    extra = 0
    can_delete = False
    fields = ("at", "kind", "actor_role", "from_stage", "to_stage", "note")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    """Read and correct texts; stage changes go through the API's actions (one timeline row
    each), so the stage and its timestamps are read-only here."""

    list_display = ["id", "title", "community", "scope", "size", "stage", "proposed_at"]
    list_filter = ["stage", "size", "source"]
    search_fields = ["title", "community__code", "scope__code"]
    raw_id_fields = ["scope", "community", "wish", "proposed_by"]
    readonly_fields = ["stage", "status", "version", "proposed_at", "assess_due_at",
                       "assessed_at", "assessment", "assessment_reason", "deliberating_at",
                       "decided_at", "implementing_at", "evaluated_at", "effect", "evaluation",
                       "closed_at", "withdrawn_at", "withdraw_reason"]
    inlines = [LinkInline, MeetingInline, DecisionInline, ProjectInline, EventInline]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["id", "resource", "community", "kind", "status", "offered_at"]
    list_filter = ["status", "kind"]
    search_fields = ["resource", "community__code"]
    raw_id_fields = ["community", "partner_unit", "volunteer", "proposal", "recorded_by"]
