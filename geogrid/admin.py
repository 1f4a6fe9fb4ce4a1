"""Admin for grids (with the Leaflet map widget), staff posts and the working calendar.

The admin writes through the same services as the API and the screens (docs/grids.md, "Admin"):

- a grid's boundary and name are changed by `geogrid.versions.edit_boundary` (a new version,
  the topology check, open appeals re-assigned, `changed_by` set); a new grid is created by
  `create_checked`. A rejected edit shows the problems as form errors and stores nothing.
  Code, level and parent are read-only: split, merge and re-parenting are the grid editor's.
  Closed versions are history: shown on a map, never edited. Grids are never deleted.
- staff posts are shown on the grid read-only (the grid editor gives and ends them); the staff
  admin only accepts current grids.
- a working-day override changes the calendar like the holiday import does: the days whose
  status changed are announced (`working_calendar_changed`) and running deadlines follow.
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin
from leaflet.forms.widgets import LeafletWidget

from geogrid import apiclients
from geogrid.calendar_db import working_calendar
from geogrid.errors import ApiError
from geogrid.holiday_schedule import ScheduleError, import_schedule, notice_year
from geogrid.models import (
    AccessLog,
    ApiClient,
    Grid,
    HolidaySchedule,
    StaffAssignment,
    WorkingDayOverride,
)
from geogrid.signals import working_calendar_changed
from geogrid.versions import EditResult, create_checked, edit_boundary

admin.site.site_header = admin.site.site_title = "GeoGrid"

NO_SAVE = {"show_save": False, "show_save_and_continue": False,
           "show_save_and_add_another": False, "show_delete_link": False}


def freeze_map(form: type[forms.ModelForm], field: str) -> None:
    """Show `field` on the map but let nobody change it: the widget cannot draw, and a disabled
    field ignores whatever is posted for it."""
    if field in form.base_fields:
        form.base_fields[field].disabled = True
        widget = form.base_fields[field].widget
        if isinstance(widget, LeafletWidget):
            widget.modifiable = False


class GridAdminForm(forms.ModelForm):
    """Saving is the service's job: once the fields are clean, the change is made by
    `edit_boundary` (or `create_checked` for a new grid) in a savepoint of the admin's
    transaction; what it refuses becomes form errors and leaves nothing behind."""

    acting_user: Any = None  # set per request by GridAdmin.get_form
    result: EditResult | None = None

    class Meta:
        model = Grid
        fields = ["level", "code", "name", "parent", "boundary"]

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            with transaction.atomic():
                self.result = self._apply()
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, errors in exc.error_dict.items():
                    self.add_error(name if name in self.fields else None, errors)
            else:
                self.add_error("boundary" if "boundary" in self.fields else None, exc)
        except (PermissionDenied, ApiError) as exc:  # not allowed here; a stale version
            self.add_error(None, str(exc) or gettext("You may not do this."))

    def _apply(self) -> EditResult | None:
        data, grid = self.cleaned_data, self.instance
        if grid.pk is None:
            return create_checked(level=data["level"], code=data["code"], name=data["name"],
                                  boundary=data["boundary"], parent=data.get("parent"),
                                  actor=self.acting_user)
        if not grid.is_current or not ({"boundary", "name"} & set(self.changed_data)):
            return None
        original = Grid.objects.get(pk=grid.pk)  # the instance holds the posted values now
        boundary = data["boundary"] if "boundary" in self.changed_data else original.boundary
        name = data["name"] if "name" in self.changed_data else None
        return edit_boundary(grid.code, boundary, version=grid.pk, actor=self.acting_user,
                             name=name)


@admin.register(Grid)
class GridAdmin(LeafletGeoAdmin):
    form = GridAdminForm
    list_display = ["code", "name", "level", "parent", "area_display", "valid_from", "valid_to"]
    list_filter = ["level", ("valid_to", admin.EmptyFieldListFilter)]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    list_per_page = 50

    ADD_FIELDS = ["level", "code", "name", "parent", "boundary"]
    CHANGE_FIELDS = ["code", "name", "level", "parent", "editor", "boundary", "area_m2",
                     "valid_from", "valid_to", "changed_by", "created_at", "posts"]

    @admin.display(description="area (km²)", ordering="area_m2")
    def area_display(self, obj: Grid) -> str:
        return f"{obj.area_m2 / 1e6:.3f}" if obj.area_m2 is not None else "—"

    @admin.display(description=_("grid editor"))
    def editor(self, obj: Grid) -> str:
        try:
            url = reverse("grid-editor")
        except NoReverseMatch:
            return "—"
        return format_html('<a href="{}#grid={}">{}</a>', url, obj.code, _(
            "Split, merge, re-parent and staff posts: open this grid in the grid editor"))

    @admin.display(description=_("staff posts"))
    def posts(self, obj: Grid) -> str:
        """The posts on this version, read-only: posts are given and ended in the grid editor
        (geogrid.staff) and follow the grid to a new version by themselves."""
        rows = obj.staff.select_related("user").order_by("post", "user__username")
        return format_html_join(
            mark_safe("<br>"), "{} · {} · {} – {}",
            ((a.user.get_full_name() or a.user.username, a.get_post_display(), a.since,
              a.until or "") for a in rows)) or "—"

    def get_fields(self, request: HttpRequest, obj: Grid | None = None) -> list[str]:
        return list(self.CHANGE_FIELDS if obj is not None else self.ADD_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Grid | None = None) -> list[str]:
        if obj is None:
            return []
        editable = {"name", "boundary"} if obj.is_current else {"boundary"}  # frozen if closed
        return [f for f in self.CHANGE_FIELDS if f not in editable]

    def get_form(self, request: HttpRequest, obj: Grid | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change, **kwargs)
        form = type(form.__name__, (form,), {"acting_user": request.user})
        if obj is not None and not obj.is_current:
            freeze_map(form, "boundary")
        return form

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        grid = self.get_object(request, object_id)
        if grid is not None and not grid.is_current:
            extra_context = {**(extra_context or {}), **NO_SAVE}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Grid, form: GridAdminForm,
                   change: bool) -> None:
        # The service stored the change while the form was cleaned: never save the instance
        # (that would overwrite a version). `obj` now stands for the version the service made,
        # for the admin's log and redirect.
        result = form.result
        if result is not None:
            obj.pk = result.grid.pk
            obj._state.adding = False
            for warning in result.warnings:
                messages.warning(request, warning.message)

    def response_change(self, request: HttpRequest, obj: Grid) -> HttpResponse:
        if "_continue" in request.POST:  # continue on the new version, not the closed one
            return HttpResponseRedirect(reverse("admin:geogrid_grid_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are history; a grid is retired by merging it in the editor


class StaffAssignmentForm(forms.ModelForm):
    class Meta:
        model = StaffAssignment
        fields = ["user", "grid", "post", "since", "until", "phone", "note"]

    def clean_grid(self) -> Grid:
        grid = self.cleaned_data["grid"]
        if grid is not None and not grid.is_current and "grid" in self.changed_data:
            raise ValidationError(_("the grid is not a current version"))
        return grid


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    form = StaffAssignmentForm
    list_display = ["user", "post", "grid", "since", "until"]
    list_filter = ["post"]
    search_fields = ["user__username", "user__first_name", "grid__code", "grid__name"]
    raw_id_fields = ["grid"]
    autocomplete_fields = ["user"]


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(admin.ModelAdmin):
    """Every write re-computes what it changes, like the holiday import
    (geogrid.holiday_schedule): the days whose status changed are announced and the layers move
    the running deadlines that reach them, in the admin's transaction."""

    list_display = ["date", "is_working", "note", "schedule"]
    list_filter = ["is_working", ("schedule", admin.EmptyFieldListFilter)]
    date_hierarchy = "date"
    search_fields = ["note"]
    readonly_fields = ["schedule"]  # a schedule's days come from its notice

    def save_model(self, request: HttpRequest, obj: WorkingDayOverride, form: Any,
                   change: bool) -> None:
        old = WorkingDayOverride.objects.filter(pk=obj.pk).values_list("date", flat=True)
        dates = {obj.date, *(old if change else [])}
        self._recalendar(request, dates, lambda: super(WorkingDayOverrideAdmin, self).save_model(
            request, obj, form, change))

    def delete_model(self, request: HttpRequest, obj: WorkingDayOverride) -> None:
        self._recalendar(request, {obj.date}, lambda: super(WorkingDayOverrideAdmin, self)
                         .delete_model(request, obj))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        dates = set(queryset.values_list("date", flat=True))
        self._recalendar(request, dates, lambda: super(WorkingDayOverrideAdmin, self)
                         .delete_queryset(request, queryset))

    @staticmethod
    def _recalendar(request: HttpRequest, dates: Iterable[date],
                    write: Callable[[], None]) -> None:
        with transaction.atomic():
            before = working_calendar()
            write()
            after = working_calendar()
            changed = frozenset(d for d in dates
                                if before.is_working_day(d) != after.is_working_day(d))
            if not changed:
                return
            replies: Iterable[tuple[object, object]] = working_calendar_changed.send(
                sender=WorkingDayOverride, dates=changed, actor=request.user)
            moved = sum(r for _receiver, r in replies if isinstance(r, int))
        messages.info(request, gettext(
            "%(days)d days changed status; %(moved)d running deadlines re-computed.")
            % {"days": len(changed), "moved": moved})


class ScheduleImportForm(forms.Form):
    text = forms.CharField(
        label=_("text of the notice"), widget=forms.Textarea(attrs={"rows": 18, "cols": 90}),
        max_length=20_000,
        help_text=_("Paste the State Council's notice as published, from 一、元旦 to 七、国庆节."))
    source = forms.CharField(label=_("source"), max_length=200,
                             help_text=_("The notice, e.g. 国办发明电〔2026〕7号"))
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2200, required=False,
                              help_text=_("Leave empty to take it from the notice's title."))

    def clean(self):
        data = super().clean()
        text = data.get("text")
        if text is None:
            return data
        if "\x00" in text or "\x00" in data.get("source", ""):
            raise forms.ValidationError(_("The text contains a NUL character."))
        data["year"] = data.get("year") or notice_year(text)
        if data["year"] is None:
            self.add_error("year", _("The notice does not name its year; enter it."))
        return data


@admin.register(HolidaySchedule)
class HolidayScheduleAdmin(admin.ModelAdmin):
    """Adding a schedule *is* the one-step import: paste the notice, get the days written and
    the running deadlines re-computed (geogrid.holiday_schedule)."""

    list_display = ["year", "source", "imported_at", "imported_by"]
    readonly_fields = ["year", "source", "text", "imported_at", "imported_by"]

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # re-import instead: the days and deadlines must follow the text

    def add_view(self, request: HttpRequest, form_url: str = "",
                 extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = ScheduleImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = import_schedule(year=form.cleaned_data["year"],
                                         text=form.cleaned_data["text"],
                                         source=form.cleaned_data["source"],
                                         acting_user=request.user)
            except ScheduleError as exc:
                for problem in exc.problems:
                    form.add_error("text", problem)
            else:
                messages.success(request, _(
                    "%(year)s imported: %(holidays)d holidays, %(make_up)d make-up working "
                    "days; %(changed)d days changed status, %(moved)d running deadlines "
                    "re-computed.") % {
                        "year": result.schedule.year, "holidays": result.holidays,
                        "make_up": result.make_up_days, "changed": len(result.changed_dates),
                        "moved": result.deadlines_recomputed})
                return HttpResponseRedirect(
                    reverse("admin:geogrid_holidayschedule_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import the State Council's holiday schedule"),
            "form": form,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/geogrid/holidayschedule/import.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the admin may list and open, never add, change or delete."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Who read which personal data: readable by superusers, never editable (the table itself
    refuses UPDATE and DELETE)."""

    list_display = ("at", "username", "post", "action", "subject_type", "reason",
                    "client_address")
    list_filter = ("action", "subject_type")
    search_fields = ("username", "reason")
    date_hierarchy = "at"


class ApiClientForm(forms.ModelForm):
    permissions = forms.MultipleChoiceField(
        label=_("permissions"), choices=ApiClient.Permission.choices, required=False,
        widget=forms.CheckboxSelectMultiple)
    scopes = forms.CharField(
        label=_("grid scopes"), required=False,
        help_text=_("grid codes, comma-separated; each covers its subtree"))

    class Meta:
        model = ApiClient
        fields = ("name", "permissions", "scopes", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scopes"] = ", ".join(self.instance.scopes)

    def clean_scopes(self) -> list[str]:
        codes = self.cleaned_data["scopes"].split(",")
        try:
            return apiclients.clean_scopes(codes)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys for other systems (geogrid.apiclients). A new client gets a service account and a
    key, shown once after saving; "issue a new key" replaces a lost or leaked one."""

    form = ApiClientForm
    list_display = ("name", "key_prefix", "active", "scope_list", "key_issued_at",
                    "last_used_at")
    list_filter = ("active",)
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "user", "key_issued_at", "last_used_at", "created_at")
    actions = ["issue_new_key"]

    @admin.display(description=_("grid scopes"))
    def scope_list(self, obj: ApiClient) -> str:
        return ", ".join(obj.scopes)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # timeline rows name the client's account: deactivate instead

    def save_model(self, request: HttpRequest, obj: ApiClient, form: forms.ModelForm,
                   change: bool) -> None:
        if change:
            obj.save()
            return
        data = form.cleaned_data
        client, raw = apiclients.create_client(
            data["name"], permissions=data["permissions"], scopes=data["scopes"])
        obj.pk = client.pk
        self._show_key(request, client, raw)

    def _show_key(self, request: HttpRequest, client: ApiClient, raw: str) -> None:
        messages.warning(request, gettext(
            "The key of %(name)s, shown only now — copy it into the client's configuration: "
            "%(key)s") % {"name": client.name, "key": raw})

    @admin.action(description=_("Issue a new key (the old one stops working)"))
    def issue_new_key(self, request: HttpRequest, queryset: Any) -> None:
        for client in queryset:
            self._show_key(request, client, apiclients.rotate_key(client))
