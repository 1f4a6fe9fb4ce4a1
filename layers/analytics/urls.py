"""Tiles at /tiles/…, heat and hotspots under /api/v1/ (mounted at the root by geogrid.urls)."""

from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("tiles/appeals/<int:z>/<int:x>/<int:y>.pbf", views.AppealTileView.as_view(),
         name="appeals-tile"),
    path("tiles/grids/<int:z>/<int:x>/<int:y>.pbf", views.GridTileView.as_view(),
         name="grids-tile"),
    path("api/v1/heat", views.HeatView.as_view(), name="heat"),
    path("api/v1/heat/count", views.CountView.as_view(), name="count"),
    path("api/v1/heat/grids", views.GridRateView.as_view(), name="grid-stats"),
    path("api/v1/hotspots", views.HotspotListView.as_view(), name="hotspots"),
]
