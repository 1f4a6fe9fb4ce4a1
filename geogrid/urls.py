"""Root URLconf. Apps are wired by dotted name; no geogrid module imports them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from geogrid.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("geogrid.api_urls")),
    path("api/v1/", include("layers.appeals.urls")),
    path("api/v1/people/", include("layers.people.urls")),
    path("api/v1/care/", include("layers.care.urls")),
    path("api/v1/volunteering/", include("layers.volunteering.urls")),
    path("api/v1/shop/", include("layers.shop.urls")),
    path("api/v1/wishes/", include("layers.wishes.urls")),
    path("api/v1/placards/", include("layers.placards.urls")),
    path("api/v1/whistles/", include("layers.whistles.urls")),
    path("api/v1/deliberation/", include("layers.deliberation.urls")),
    path("open311/v2/", include("layers.open311.urls")),
    path("ogcapi/", include("layers.ogcapi.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger's start-up script as a URL: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("layers.analytics.urls")),
    path("", include("maps.urls")),
]

# Under /api/ (and /tiles/) a refused request, a missing page or a crash answers JSON in the one
# error shape (geogrid.errors).
handler400 = "geogrid.errors.json_400"
handler403 = "geogrid.errors.json_403"
handler404 = "geogrid.errors.json_404"
handler500 = "geogrid.errors.json_500"
