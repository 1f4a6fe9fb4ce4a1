"""/api/v1/people/…: households, dwellings, persons, changes, micro-units, the access report,
the masked register export; the register import (importers.household_urls) and the 四清
ledger and counts (ledger_urls)."""

from django.urls import include, path

from layers.people import export_views, views
from layers.people.services import CHANGE_ACTIONS, DWELLING_ACTIONS, HOUSEHOLD_ACTIONS

app_name = "people"

urlpatterns = [
    path("households/", views.HouseholdListView.as_view(), name="household-list"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household-detail"),
    *HOUSEHOLD_ACTIONS.urls("households/<int:pk>/actions/<action>/",
                            views.HouseholdActionView, name="household-action"),
    path("dwellings/", views.DwellingListView.as_view(), name="dwelling-list"),
    *DWELLING_ACTIONS.urls("dwellings/<int:pk>/actions/<action>/", views.DwellingActionView,
                           name="dwelling-action"),
    path("persons/", views.PersonSearchView.as_view(), name="person-search"),
    path("persons/<int:pk>/unmask/", views.UnmaskView.as_view(), name="person-unmask"),
    path("changes/", views.ChangeListView.as_view(), name="change-list"),
    *CHANGE_ACTIONS.urls("changes/<int:pk>/actions/<action>/", views.ChangeActionView,
                         name="change-action"),
    path("micro-units/", views.MicroUnitListView.as_view(), name="micro-unit-list"),
    path("access-report/", views.AccessReportView.as_view(), name="access-report"),
    path("", include("importers.household_urls")),  # the register import (by name: no import)
    path("export.csv", export_views.RegisterExportView.as_view(), name="register-export"),
    path("", include("layers.people.ledger_urls")),
]
