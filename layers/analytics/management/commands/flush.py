"""`flush` that also empties the analytics pre-aggregation (layers.analytics.snapshot.clear).

Its month partitions, fingerprints and all-months cube are plain SQL tables, not models, so
Django's flush — what a TransactionTestCase (pytest's transactional_db) runs after each test —
left them behind: the next test saw the previous one's bins and watermark over an empty
layers_appeal. Overriding the command (an app's command wins over Django's) covers every
flush, from tests or `manage.py flush`, without a hook in each test."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from layers.analytics.snapshot import clear


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        if options["interactive"]:
            # Asked here (Django's wording) so that a "no" leaves the analytics tables too.
            name = connections[options["database"]].settings_dict["NAME"]
            confirm = input(
                "You have requested a flush of the database.\nThis will IRREVERSIBLY DESTROY "
                f'all data currently in the "{name}"'
                " database,\nand return each table to an empty state.\nAre you sure you want to "
                "do this?\n\n    Type 'yes' to continue, or 'no' to cancel: "
            )
            if confirm != "yes":
                self.stdout.write("Flush cancelled.")
                return
        super().handle(**{**options, "interactive": False})
        with connections[options["database"]].cursor() as cursor:
            # A database without the analytics migrations (--nomigrations) has none of them.
            cursor.execute("SELECT to_regclass('analytics_cube_all') IS NOT NULL")
            migrated = cursor.fetchone()[0]
        if migrated:
            clear(options["database"])
