"""/ogcapi/…: OGC API – Features (layers/ogcapi/views.py, docs/standards.md)."""

from django.urls import URLPattern, path

from layers.ogcapi import views

app_name = "ogcapi"

urlpatterns: list[URLPattern] = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("api", views.api, name="api"),
    path("api.html", views.api_html, name="api-html"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:collection_id>", views.collection, name="collection"),
    path("collections/<str:collection_id>/queryables", views.collection_queryables,
         name="queryables"),
    path("collections/<str:collection_id>/items", views.items, name="items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", views.item, name="item"),
]
