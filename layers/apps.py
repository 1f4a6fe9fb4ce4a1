from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = _("Point layers")

    def ready(self) -> None:
        # geogrid announces boundary changes; layers re-assigns what they touch.
        from geogrid.signals import boundaries_changed, working_calendar_changed
        from layers.deadlines import recompute_running
        from layers.reassign import reassign_after_change

        boundaries_changed.connect(reassign_after_change, dispatch_uid="layers.reassign")
        # A newly imported holiday schedule moves the deadlines that reach into its days.
        working_calendar_changed.connect(recompute_running, dispatch_uid="layers.deadlines")
