"""Filled in by the import_urls work."""

urlpatterns: list = []
