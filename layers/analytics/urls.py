"""Tiles at /tiles/…, heat and hotspots under /api/v1/ (mounted at the root by geogrid.urls)."""

from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("tiles/appeals/<int:z>/<int:x>/<int:y>.pbf", views.appeals_tile, name="appeals-tile"),
    path("tiles/grids/<int:z>/<int:x>/<int:y>.pbf", views.grids_tile, name="grids-tile"),
    path("api/v1/heat", views.heat_view, name="heat"),
    path("api/v1/heat/count", views.count_view, name="count"),
    path("api/v1/heat/grids", views.grid_stats_view, name="grid-stats"),
    path("api/v1/hotspots", views.hotspots_view, name="hotspots"),
]
