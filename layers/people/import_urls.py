"""/api/v1/people/imports/ (a register file in, the report out) and /api/v1/people/export.csv
(the register of a subtree, masked): layers.people.import_views."""

from django.urls import path

from layers.people import import_views

urlpatterns = [
    path("imports/", import_views.RegisterImportView.as_view(), name="register-import"),
    path("export.csv", import_views.RegisterExportView.as_view(), name="register-export"),
]
