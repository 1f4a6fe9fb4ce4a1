"""REST API of the point layers (appeals, buildings), mounted under /api/v1/ by geogrid.urls."""

urlpatterns: list = []
