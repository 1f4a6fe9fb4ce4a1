"""Open311 GeoReport v2 server (docs/standards.md)."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    """Open311 GeoReport v2 (with mySociety's servicerequestupdates) over the appeals."""

    name = "layers.open311"
    label = "open311"
    verbose_name = _("Open311 GeoReport v2")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from geogrid.errors import register_error_renderer
        from layers.open311.formats import render_error

        # Unknown paths, Django's refusals and crashes under /open311/ in the spec's shape.
        register_error_renderer("/open311/", render_error)
