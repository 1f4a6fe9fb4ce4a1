from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacardsConfig(AppConfig):
    """QR placards (民意二维码) with the 四长 board: tokens, scans, printable sheets."""

    name = "layers.placards"
    label = "placards"
    verbose_name = _("QR placards")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.placards import notices  # noqa: F401  (registers the notification text)
