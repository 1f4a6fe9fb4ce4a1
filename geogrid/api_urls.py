"""REST API of the grid hierarchy, mounted under /api/v1/ by geogrid.urls."""

from django.urls import path

from geogrid.api import (
    GridAncestorsView,
    GridChildrenView,
    GridDetailView,
    GridHistoryView,
    GridListView,
    GridMergeView,
    GridsAtView,
    GridSplitView,
    GridStaffView,
    GridTopologyView,
)

urlpatterns = [
    path("grids/", GridListView.as_view(), name="grid-list"),
    path("grids/at/", GridsAtView.as_view(), name="grid-at"),
    path("grids/<str:code>/", GridDetailView.as_view(), name="grid-detail"),
    path("grids/<str:code>/children/", GridChildrenView.as_view(), name="grid-children"),
    path("grids/<str:code>/ancestors/", GridAncestorsView.as_view(), name="grid-ancestors"),
    path("grids/<str:code>/topology/", GridTopologyView.as_view(), name="grid-topology"),
    path("grids/<str:code>/history/", GridHistoryView.as_view(), name="grid-history"),
    path("grids/<str:code>/split/", GridSplitView.as_view(), name="grid-split"),
    path("grids/<str:code>/merge/", GridMergeView.as_view(), name="grid-merge"),
    path("grids/<str:code>/staff/", GridStaffView.as_view(), name="grid-staff"),
]
