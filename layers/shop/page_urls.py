"""The shop layer's pages (outside /api/): the operator's counter page."""

from django.urls import path

from layers.shop import pages

urlpatterns = [
    path("m/shop/", pages.counter_page, name="shop-counter-page"),
]
