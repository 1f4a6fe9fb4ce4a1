"""/api/v1/placards/…"""

from django.urls import path  # noqa: F401

app_name = "placards"

urlpatterns: list = []
