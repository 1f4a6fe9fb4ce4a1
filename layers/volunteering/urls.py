"""/api/v1/volunteering/…: the volunteer's own account, volunteers and applications, service
records and their actions, ledgers and corrections, the figures (docs/points.md)."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.volunteering import views
from layers.volunteering.services import (
    ADJUSTMENT_ACTIONS,
    APPLICATION_ACTIONS,
    ENTRY_ACTIONS,
    RECORD_ACTIONS,
)

# The figures panels of the dashboard: read-only, replica-eligible (docs/replicas.md).
_replica = replica_reads(bind_default=True)

app_name = "volunteering"

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/entries/", views.MyEntriesView.as_view(), name="my-entries"),
    path("volunteers/", views.VolunteerListView.as_view(), name="volunteer-list"),
    path("applications/", views.ApplicationListView.as_view(), name="application-list"),
    *APPLICATION_ACTIONS.urls("applications/<int:pk>/actions/<action>/",
                              views.ApplicationActionView, name="application-action"),
    path("records/", views.RecordListView.as_view(), name="record-list"),
    *RECORD_ACTIONS.urls("records/<int:pk>/actions/<action>/", views.RecordActionView,
                         name="record-action"),
    path("accounts/<int:pk>/entries/", views.AccountEntriesView.as_view(),
         name="account-entries"),
    path("accounts/<int:pk>/adjustments/", views.ProposeAdjustmentView.as_view(),
         name="adjustment-propose"),
    *ENTRY_ACTIONS.urls("entries/<int:pk>/actions/<action>/", views.EntryActionView,
                        name="entry-action"),
    path("adjustments/", views.AdjustmentListView.as_view(), name="adjustment-list"),
    *ADJUSTMENT_ACTIONS.urls("adjustments/<int:pk>/actions/<action>/",
                             views.AdjustmentActionView, name="adjustment-action"),
    path("figures/", _replica(views.FiguresView.as_view()), name="figures"),
    path("figures/layer/", _replica(views.FiguresLayerView.as_view()), name="figures-layer"),
]
