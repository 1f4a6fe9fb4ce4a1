"""Admin for grids (with the Leaflet map widget), staff posts and the working calendar."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from geogrid.holiday_schedule import ScheduleError, import_schedule, notice_year
from geogrid.models import Grid, HolidaySchedule, StaffAssignment, WorkingDayOverride

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
    list_display = ["date", "is_working", "note", "schedule"]
    list_filter = ["is_working", ("schedule", admin.EmptyFieldListFilter)]
    date_hierarchy = "date"
    search_fields = ["note"]


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
