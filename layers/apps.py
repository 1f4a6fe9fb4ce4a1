from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = _("Point layers")

    def ready(self) -> None:
        # geogrid announces boundary changes; layers re-assigns what they touch.
        from geogrid.signals import boundaries_changed
        from layers.reassign import reassign_after_change

        boundaries_changed.connect(reassign_after_change, dispatch_uid="layers.reassign")
