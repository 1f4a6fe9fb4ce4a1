"""/api/v1/care/stats/ and stats/layer/ (layers.care.stats_views), included by layers.care.urls
under the app namespace "care" (names care:stats, care:stats-layer)."""

from django.urls import path

from layers.care import stats_views

urlpatterns = [
    path("stats/", stats_views.StatsView.as_view(), name="stats"),
    path("stats/layer/", stats_views.StatsLayerView.as_view(), name="stats-layer"),
]
