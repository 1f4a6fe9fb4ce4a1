"""REST API of the grid hierarchy, mounted under /api/v1/ by geogrid.urls."""

urlpatterns: list = []
