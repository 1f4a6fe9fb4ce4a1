"""manage.py backup DEST: the database (pg_dump, custom format) and the media files, with a
manifest, into a new folder or a new DEST.tar (geogrid/backup.py; docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geogrid.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump --format=custom, one consistent snapshot) and MEDIA_ROOT "
        "into DEST: a .tar archive when DEST ends in .tar, else a new folder. Never overwrites."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dest", type=Path, help="a new folder, or a new file ending in .tar")
        parser.add_argument("--database", default="default", help="connection alias")
        parser.add_argument("--media-root", type=Path,
                            help="the media folder to back up (default: MEDIA_ROOT)")

    def handle(self, *args: Any, dest: Path, database: str, media_root: Path | None,
               **options: Any) -> None:
        try:
            result = backup(dest, using=database, media_root=media_root)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for line in result.lines():
            self.stdout.write(line)
