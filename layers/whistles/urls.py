"""/api/v1/whistles/…: list and blow, request, one whistle, my units, the map layer, figures,
the departments one may call in, and the actions on a whistle and on a called-in unit."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.whistles import views
from layers.whistles.services import UNIT_ACTIONS, WHISTLE_ACTIONS

# The figures panels of the dashboard: read-only, replica-eligible (docs/replicas.md).
_replica = replica_reads(bind_default=True)

app_name = "whistles"

urlpatterns = [
    path("", views.WhistleListView.as_view(), name="whistle-list"),
    path("requests/", views.RequestView.as_view(), name="whistle-request"),
    path("mine/", views.MineView.as_view(), name="mine"),
    path("map/", views.MapView.as_view(), name="map"),
    path("figures/", _replica(views.FiguresView.as_view()), name="figures"),
    path("departments/", views.DepartmentsView.as_view(), name="departments"),
    path("<int:pk>/", views.WhistleDetailView.as_view(), name="whistle-detail"),
    *WHISTLE_ACTIONS.urls("<int:pk>/actions/<action>/", views.WhistleActionView,
                          name="whistle-action"),
    *UNIT_ACTIONS.urls("units/<int:pk>/actions/<action>/", views.UnitActionView,
                       name="unit-action"),
]
