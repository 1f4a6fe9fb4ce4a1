"""manage.py import_holiday_schedule FILE --source "国办发明电〔2026〕7号" [--year 2027]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geogrid.holiday_schedule import ScheduleError, import_schedule, notice_year


class Command(BaseCommand):
    help = ("Import the State Council's holiday schedule for a year (the notice's text, UTF-8) "
            "and re-compute the running deadlines it changes.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="the notice as plain UTF-8 text")
        parser.add_argument("--source", required=True, help="the notice's number or title")
        parser.add_argument("--year", type=int, help="default: the year named in the notice")

    def handle(self, *args, file: Path, source: str, year: int | None, **options) -> None:
        try:
            text = file.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        year = year or notice_year(text)
        if year is None:
            raise CommandError("the notice does not name its year; pass --year")
        try:
            result = import_schedule(year=year, text=text, source=source)
        except ScheduleError as exc:
            problems = "\n  ".join(exc.problems)
            raise CommandError(f"the notice was not imported:\n  {problems}") from None
        self.stdout.write(
            f"{year}: {result.holidays} holidays, {result.make_up_days} make-up working days; "
            f"{len(result.changed_dates)} days changed status; "
            f"{result.deadlines_recomputed} running deadlines re-computed")
        if result.replaced_manual:
            self.stdout.write("replaced manual overrides: "
                              + ", ".join(str(d) for d in result.replaced_manual))
