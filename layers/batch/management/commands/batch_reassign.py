"""Re-assign appeals (historical ones too) to the current grids as a Dask job (docs/batch.md)."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import nullcontext

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geogrid.hierarchy import code_lengths
from layers.batch.cluster import client_for
from layers.batch.models import JobState
from layers.batch.reassign import JobReport, resume_job, run_job, start_job


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = ("Re-assign located appeals to the current grids with the service's rules, one "
            "transaction per district × month, on Dask (a LocalCluster unless --scheduler).")

    def add_arguments(self, parser):
        parser.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
        parser.add_argument("--workers", type=int, default=2,
                            help="LocalCluster worker processes (without --scheduler)")
        parser.add_argument("--since", help="first month (YYYY-MM-DD, rounded to its month)")
        parser.add_argument("--until", help="month to stop before (YYYY-MM-DD, exclusive)")
        parser.add_argument("--district", action="append", default=[],
                            help="district code (repeatable); default every district")
        parser.add_argument("--resume", type=int, metavar="JOB",
                            help="run the pending partitions of an earlier job")
        parser.add_argument("--index", choices=("broadcast", "worker"), default="broadcast",
                            help="send the grid index from here (default) or let each worker "
                                 "load it (disk cache)")
        parser.add_argument("--no-dask", action="store_true",
                            help="run in this process, without Dask")

    def handle(self, *args, **o):
        since = _date(o["since"]) if o["since"] else None
        until = _date(o["until"]) if o["until"] else None
        if since and until and since.replace(day=1) >= until.replace(day=1):
            raise CommandError("--since must be in a month before --until")
        district_len = code_lengths()[1]
        bad = [d for d in o["district"] if not re.fullmatch(rf"\d{{{district_len}}}", d)]
        if bad:
            raise CommandError(f"--district takes {district_len}-digit district codes, not "
                               f"{', '.join(map(repr, bad))}")
        if o["resume"] is not None and (since or until or o["district"]):
            raise CommandError("--resume runs the job as it was planned: drop --since, "
                               "--until and --district")
        if o["no_dask"] and o["scheduler"]:
            raise CommandError("--no-dask and --scheduler exclude each other")
        if o["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        resumed = resume_job(o["resume"]) if o["resume"] is not None else None
        # Connect before planning: an unreachable scheduler leaves no job behind.
        cluster = nullcontext() if o["no_dask"] else client_for(o["scheduler"], o["workers"])
        with cluster as client:
            if resumed is not None:
                job, parts = resumed
            else:
                job, parts = start_job(since=since, until=until, districts=o["district"],
                                       scheduler=o["scheduler"] or "")
            self.stdout.write(f"job {job.pk}: {len(parts)} partitions to run")
            with tqdm(total=len(parts), unit="part", disable=not parts) as bar:
                report = run_job(job, parts, client=client, index_mode=o["index"],
                                 progress=bar.update)
        self._summary(report)

    def _summary(self, report: JobReport) -> None:
        job = report.job
        self.stdout.write(
            f"job {job.pk} {job.state}: {report.done} partitions written, {report.skipped} "
            f"already done, {len(report.failed)} failed; {report.rows} appeals read, "
            f"{report.changed} re-assigned in {report.seconds:.1f} s")
        if job.state != JobState.DONE:
            for label, err in report.failed:
                self.stderr.write(f"  {label}: {err}")
            raise CommandError(f"job {job.pk} is incomplete: run it again with --resume {job.pk}")
