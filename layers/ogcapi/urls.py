"""/ogcapi/…: OGC API – Features (layers/ogcapi/views.py, docs/standards.md). The collection and
feature reads are replica-eligible (geogrid.dbrouting, docs/replicas.md)."""

from django.urls import URLPattern, path

from geogrid.dbrouting import replica_reads
from layers.ogcapi import views

app_name = "ogcapi"

urlpatterns: list[URLPattern] = [
    path("", views.landing, name="landing"),
    path("conformance", views.conformance, name="conformance"),
    path("api", views.api, name="api"),
    path("api.html", views.api_html, name="api-html"),
    path("collections", replica_reads(views.collections), name="collections"),
    path("collections/<str:collection_id>", replica_reads(views.collection), name="collection"),
    path("collections/<str:collection_id>/queryables", replica_reads(views.collection_queryables),
         name="queryables"),
    path("collections/<str:collection_id>/items", replica_reads(views.items), name="items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", replica_reads(views.item),
         name="item"),
]
