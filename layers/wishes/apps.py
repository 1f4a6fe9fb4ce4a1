from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WishesConfig(AppConfig):
    """Micro-wishes (微心愿): posting, review, the wall, claims, delivery, confirmation."""

    name = "layers.wishes"
    label = "wishes"
    verbose_name = _("Micro-wishes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from layers.people import retention
        from layers.wishes.retention import purge_wishes

        if purge_wishes not in retention.DEPENDENTS:
            retention.DEPENDENTS.append(purge_wishes)
