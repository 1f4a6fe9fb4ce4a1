from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    """协商议事: residents deliberate what a grid cannot settle alone."""

    name = "layers.deliberation"
    label = "deliberation"
    verbose_name = _("Deliberation (协商议事)")
    default_auto_field = "django.db.models.BigAutoField"
