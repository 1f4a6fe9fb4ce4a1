from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    """Households, residents, micro-units and the 四清 ledger (docs/privacy.md)."""

    name = "layers.people"
    label = "people"
    verbose_name = _("People")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.people import reassign  # noqa: F401  (connects to boundaries_changed)
