from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    """Care visits for special groups: subjects, colours, visit plans, visits (docs/care.md)."""

    name = "layers.care"
    label = "care"
    verbose_name = _("Care visits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.care import notices  # noqa: F401  (registers the notification texts)
        from layers.care.retention import purge_care
        from layers.people import retention

        if purge_care not in retention.DEPENDENTS:
            retention.DEPENDENTS.append(purge_care)
