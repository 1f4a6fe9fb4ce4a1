"""Tiles at /tiles/…, heat and hotspots under /api/v1/ (mounted at the root by geogrid.urls)."""

urlpatterns: list = []
