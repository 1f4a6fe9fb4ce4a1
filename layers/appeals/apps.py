from django.apps import AppConfig
from django.db.models.signals import post_migrate
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
        # Every migrate keeps the months ahead partitioned (so does the daily close_unrated).
        post_migrate.connect(_partitions_ahead, sender=self,
                             dispatch_uid="layers.appeals.partitions")


def _partitions_ahead(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from layers.appeals import partitions

    with connections[using].cursor() as cursor:
        # Only once the tables are partitioned (not while migrating back past 0006).
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass('layers_appeal')")
        row = cursor.fetchone()
    if row and row[0] == "p" and using == "default":
        partitions.ensure_ahead()
