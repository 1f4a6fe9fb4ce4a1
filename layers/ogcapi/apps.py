from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OgcApiConfig(AppConfig):
    """OGC API – Features (Core, CRS, CQL2 filtering) over grids, buildings, appeals, hotspots."""

    name = "layers.ogcapi"
    label = "ogcapi"
    verbose_name = _("OGC API – Features")
    default_auto_field = "django.db.models.BigAutoField"
