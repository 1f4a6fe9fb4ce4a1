"""/api/v1/care/stats/ and stats/layer/ (layers.care.stats_views), included by layers.care.urls
under the app namespace "care" (names care:stats, care:stats-layer)."""

from django.urls import path

from geogrid.dbrouting import replica_reads
from layers.care import stats_views

# The figures panels of the dashboard: read-only, replica-eligible (docs/replicas.md).
_replica = replica_reads(bind_default=True)

urlpatterns = [
    path("stats/", _replica(stats_views.StatsView.as_view()), name="stats"),
    path("stats/layer/", _replica(stats_views.StatsLayerView.as_view()), name="stats-layer"),
]
