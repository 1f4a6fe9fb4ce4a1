"""/api/v1/people/ledger/, micro-units/<id>/ledger/ and counts/ (layers.people.ledger_views)."""

from django.urls import path

from layers.people import ledger_views

urlpatterns = [
    path("ledger/", ledger_views.LedgerView.as_view(), name="ledger"),
    path("micro-units/<int:unit_id>/ledger/", ledger_views.UnitLedgerView.as_view(),
         name="micro-unit-ledger"),
    path("counts/", ledger_views.CountsView.as_view(), name="counts"),
]
