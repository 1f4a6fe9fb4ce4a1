"""manage.py restore SRC --database-url postgres://…/NEWDB [--media-root DIR] [--force]:
a backup made by `manage.py backup` into a new (or empty) database and media folder
(geogrid/backup.py; docs/operations.md). `--check` only verifies the backup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geogrid.backup import BackupError, check, restore


class Command(BaseCommand):
    help = (
        "Restore a backup folder or .tar into a new database (created when missing; one with "
        "tables is refused unless --force) and a media folder (must be empty unless --force). "
        "With --check, only verify the backup's checksums."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("src", type=Path, help="a backup folder or .tar archive")
        parser.add_argument("--database-url", metavar="URL",
                            help="postgres://user:password@host:port/NAME to restore into "
                                 "(required unless --check)")
        parser.add_argument("--media-root", type=Path,
                            help="folder to restore the media into (default: MEDIA_ROOT)")
        parser.add_argument("--force", action="store_true",
                            help="write over a database with tables and a media folder "
                                 "with files")
        parser.add_argument("--check", action="store_true",
                            help="verify the manifest and every checksum; restore nothing")

    def handle(self, *args: Any, src: Path, database_url: str | None, media_root: Path | None,
               force: bool, check: bool, **options: Any) -> None:
        try:
            if check:
                result = _check(src)
            else:
                if not database_url:
                    raise CommandError("--database-url is required (or --check)")
                result = restore(src, database_url=database_url, media_root=media_root,
                                 force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        for line in result.lines():
            self.stdout.write(line)


_check = check
