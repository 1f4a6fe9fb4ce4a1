"""/api/v1/people/…: households, persons, changes, micro-units, the 四清 ledger, imports."""

from django.urls import include, path

app_name = "people"

urlpatterns = [
    path("", include("layers.people.import_urls")),
    path("", include("layers.people.ledger_urls")),
]
