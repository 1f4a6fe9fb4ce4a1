from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteeringConfig(AppConfig):
    """Volunteers, partner units, service records and the points ledger."""

    name = "layers.volunteering"
    label = "volunteering"
    verbose_name = _("Volunteers and points")
    default_auto_field = "django.db.models.BigAutoField"
