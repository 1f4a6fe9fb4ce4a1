"""The wishes layer's pages (outside /api/)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
