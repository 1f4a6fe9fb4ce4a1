"""/api/v1/people/imports/ (included by layers/people/urls.py)."""

from django.urls import path

from importers import household_views

urlpatterns = [
    path("imports/", household_views.RegisterImportView.as_view(), name="register-import"),
]
