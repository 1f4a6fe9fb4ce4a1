from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "layers.analytics"
    label = "analytics"
    verbose_name = _("analytics")
    default_auto_field = "django.db.models.BigAutoField"
