"""/open311/v2/…: the format is the path's extension (.json or .xml). Any other path under
/open311/ is the spec's 404 (geogrid.errors' renderer, registered in apps.py)."""

from django.urls import URLPattern, re_path

from layers.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services, name="services"),
    re_path(r"^services/(?P<code>[^/]{1,64}?)" + FMT, views.service_definition,
            name="service"),
    re_path(r"^requests" + FMT, views.requests, name="requests"),
    re_path(r"^requests/(?P<ref>[^/]{1,64}?)" + FMT, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<ref>[^/]{1,64}?)" + FMT, views.token, name="token"),
    re_path(r"^servicerequestupdates" + FMT, views.request_updates, name="updates"),
]
