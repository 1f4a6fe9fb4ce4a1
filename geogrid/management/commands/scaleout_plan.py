"""manage.py scaleout_plan [--sql]: the schema against the sharding plan; exit 1 on problems."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from geogrid.scaleout import citus_statements, current_tables, placement_of, plan_problems


class Command(BaseCommand):
    help = ("Check the current schema against the Citus sharding plan (docs/scale-out.md); "
            "--sql prints the calls that would distribute it.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--sql", action="store_true",
                            help="print create_reference_table/create_distributed_table calls")

    def handle(self, *args, sql: bool, **options) -> None:
        with connection.cursor() as cursor:
            problems = plan_problems(cursor)
            tables = current_tables(cursor)
        if sql:
            for statement in citus_statements(tables):
                self.stdout.write(statement)
        else:
            counts: dict[str, int] = {}
            for table in tables:
                placement = placement_of(table)
                key = placement.value if placement else "unplanned"
                counts[key] = counts.get(key, 0) + 1
            self.stdout.write(", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)} problem(s) with the sharding plan")
