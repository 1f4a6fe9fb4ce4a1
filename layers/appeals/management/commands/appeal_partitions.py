"""manage.py appeal_partitions ensure|list|detach|attach — the month partitions of the appeals
and their timeline (layers.appeals.partitions; docs/partitioning.md).

    appeal_partitions ensure [--from YYYY-MM] [--to YYYY-MM]   (default: this month + ahead)
    appeal_partitions list [--estimate]
    appeal_partitions detach YYYY-MM      (archive a month: both tables, one transaction)
    appeal_partitions attach YYYY-MM      (bring an archived month back)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from layers.appeals import partitions as P


class Command(BaseCommand):
    help = "Create, list, detach (archive) or attach the month partitions of the appeals."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ensure = sub.add_parser("ensure", help="create missing month partitions")
        ensure.add_argument("--from", dest="first", help="first month, YYYY-MM (default: now)")
        ensure.add_argument("--to", dest="last",
                            help=f"last month, YYYY-MM (default: {P.MONTHS_AHEAD} ahead)")
        listing = sub.add_parser("list", help="partitions with bounds and row counts")
        listing.add_argument("--estimate", action="store_true",
                             help="the planner's row estimates instead of exact counts")
        for name, text in (("detach", "archive a month of both tables"),
                           ("attach", "attach an archived month back")):
            sub.add_parser(name, help=text).add_argument("month", help="YYYY-MM")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._run(options)
        except P.PartitionError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:  # e.g. the lock timeout of a detach
            raise CommandError(f"the database refused: {exc}".strip()) from exc

    def _run(self, options: dict[str, Any]) -> None:
        action = options["action"]
        if action == "ensure":
            this = P.month_of(dt.datetime.now(dt.UTC))
            first = P.parse_month(options["first"]) if options["first"] else this
            last = (P.parse_month(options["last"]) if options["last"]
                    else max(first, P.next_month(this, P.MONTHS_AHEAD)))
            if len(P.months_between(first, last)) > P.MAX_NEW_MONTHS:
                raise P.PartitionError(f"at most {P.MAX_NEW_MONTHS} months at a time")
            created = P.ensure_range(first, last)
            self.stdout.write(f"created: {', '.join(created) or 'none (all there)'}")
        elif action == "list":
            for part in P.list_partitions(count=not options["estimate"]):
                state = part.bound if part.attached else "DETACHED (archive)"
                self.stdout.write(f"{part.name:<32} {part.rows:>10,}  {state}")
        elif action == "detach":
            names = P.detach(P.parse_month(options["month"]))
            self.stdout.write(f"detached: {', '.join(names)} (plain tables now; see"
                              " docs/partitioning.md, archiving)")
        else:
            names = P.attach(P.parse_month(options["month"]))
            self.stdout.write(f"attached: {', '.join(names)}")
