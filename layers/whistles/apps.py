from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WhistlesConfig(AppConfig):
    """吹哨报到: a subdistrict blows the whistle and departments report in."""

    name = "layers.whistles"
    label = "whistles"
    verbose_name = _("Whistles (吹哨报到)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.whistles import notices, watcher  # noqa: F401  (notice texts, the sweep)
