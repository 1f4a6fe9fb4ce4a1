"""Filled in by the ledger_urls work."""

urlpatterns: list = []
