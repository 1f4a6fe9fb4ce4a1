from django.urls import path

from maps.views import home

urlpatterns = [
    path("", home, name="home"),
]
