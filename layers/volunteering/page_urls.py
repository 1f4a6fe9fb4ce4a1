"""The volunteering layer's pages (outside /api/): the volunteer's phone page."""

from django.urls import path

from layers.volunteering import pages

urlpatterns = [
    path("m/points/", pages.points_page, name="points-page"),
    path("m/points/qr/<str:code>.svg", pages.pickup_qr, name="points-pickup-qr"),
]
