from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "layers.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        # geogrid announces boundary and calendar changes; this layer follows them.
        from geogrid.signals import boundaries_changed, working_calendar_changed
        from layers.appeals.deadlines import recompute_running
        from layers.appeals.reassign import reassign_after_change

        boundaries_changed.connect(reassign_after_change, dispatch_uid="layers.appeals.reassign")
        # A newly imported holiday schedule moves the deadlines that reach into its days.
        working_calendar_changed.connect(recompute_running,
                                         dispatch_uid="layers.appeals.deadlines")
