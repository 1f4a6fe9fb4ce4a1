from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Care visits for special groups: subjects, colours, visit plans, visits (docs/care.md)."""

    name = "layers.care"
    label = "care"
    verbose_name = _("Care visits")
    default_auto_field = "django.db.models.BigAutoField"
