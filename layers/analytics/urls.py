"""Tiles at /tiles/…, heat and hotspots under /api/v1/ (mounted at the root by geogrid.urls).

All of them are read-only and replica-eligible (geogrid.dbrouting, docs/replicas.md); they read
through the snapshot's `django.db.connection`, hence bind_default."""

from django.urls import path

from geogrid.dbrouting import replica_reads

from . import views

_replica = replica_reads(bind_default=True)

app_name = "analytics"
urlpatterns = [
    path("tiles/appeals/<int:z>/<int:x>/<int:y>.pbf", _replica(views.AppealTileView.as_view()),
         name="appeals-tile"),
    path("tiles/grids/<int:z>/<int:x>/<int:y>.pbf", _replica(views.GridTileView.as_view()),
         name="grids-tile"),
    path("api/v1/heat", _replica(views.HeatView.as_view()), name="heat"),
    path("api/v1/heat/count", _replica(views.CountView.as_view()), name="count"),
    path("api/v1/heat/grids", _replica(views.GridRateView.as_view()), name="grid-stats"),
    path("api/v1/hotspots", _replica(views.HotspotListView.as_view()), name="hotspots"),
]
