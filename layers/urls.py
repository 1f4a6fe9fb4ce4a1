"""REST API of the point layers (appeals, buildings), mounted under /api/v1/ by geogrid.urls."""

from django.urls import path

from layers.views import AppealDetailView, AppealListView, LocateView

urlpatterns = [
    path("appeals/", AppealListView.as_view(), name="appeal-list"),
    path("appeals/<str:tracking>/", AppealDetailView.as_view(), name="appeal-detail"),
    path("locate", LocateView.as_view(), name="locate"),
]
