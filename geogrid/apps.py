from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoGridConfig(AppConfig):
    name = "geogrid"
    verbose_name = _("Grid hierarchy")
