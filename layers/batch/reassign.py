"""Province-scale re-assignment of appeals (historical ones too) after boundary changes.

Each partition (district × month, layers.batch.plan) is one task and one transaction:

1. lock the partition's row in the job table (`SELECT … FOR UPDATE … WHERE state <> 'done'`):
   a task that finds it done — finished by an earlier run, or by a copy of this task that Dask
   restarted elsewhere and that committed first — does nothing;
2. read the partition's points (id, lon, lat, current grid and method) with one binary COPY;
3. assign them with the service's in-process rules (geogrid.locate.assign_many: the grid index,
   uncertain points settled by the SQL rules), so every answer is the service's;
4. write only what changed: a binary COPY into a temporary table, one UPDATE of those appeals,
   their Reassignment rows and "reassigned" timeline rows (the data reassign.py writes, plus the
   job id), and the partition marked done — all committed together.

A task that dies before its commit leaves nothing behind (the database rolls the transaction
back when the connection drops), and the partition stays pending for the retry or the re-run.
The grids must not change during a job: every task checks the grids' signature against the
one the job started with and fails rather than mix two boundary versions.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from geogrid import copybin, locate
from layers.appeals.models import AppealEvent
from layers.appeals.timeline import COLUMNS as EVENT_COLUMNS
from layers.batch.models import BatchJob, BatchPartition, JobKind, JobState, PartState
from layers.batch.plan import Part, partitions
from layers.batch.tasks import Context, DjangoSetup, reassign_task, worker_name

METHODS = list(locate.METHODS)

# One binary COPY row of the read: 5 fixed-width fields (NULLs replaced in the SELECT).
_ROW = np.dtype([("n", ">i2"), ("l0", ">i4"), ("id", ">i8"), ("l1", ">i4"), ("x", ">f8"),
                 ("l2", ">i4"), ("y", ">f8"), ("l3", ">i4"), ("grid", ">i8"), ("l4", ">i4"),
                 ("m", ">i2")])
_HEADER = 19  # signature (11) + flags (4) + header extension length (4)


@dataclass
class JobReport:
    job: BatchJob
    done: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 0
    changed: int = 0
    seconds: float = 0.0
    part_seconds: list[float] = field(default_factory=list)
    # Per written partition: seconds reading, assigning, writing (the benchmark's projection).
    part_times: list[tuple[float, float, float]] = field(default_factory=list)


def grid_signature() -> tuple:
    with connection.cursor() as cursor:
        return locate._signature(cursor)


def start_job(*, since: dt.date | None = None, until: dt.date | None = None,
              districts: Iterable[str] = (), scheduler: str = "") -> tuple[BatchJob, list[Part]]:
    """A new job with one pending row per non-empty partition."""
    districts = tuple(districts)
    found = partitions(since=since, until=until, districts=districts)
    signature = grid_signature()
    with transaction.atomic():
        job = BatchJob.objects.create(
            kind=JobKind.REASSIGN, scheduler=scheduler,
            params={"since": since and since.isoformat(), "until": until and until.isoformat(),
                    "districts": list(districts), "signature": list(signature),
                    "tolerance_m": locate.tolerance_m()})
        BatchPartition.objects.bulk_create(
            BatchPartition(job=job, district_code=p.district_code, month=p.month, rows=n)
            for p, n in found)
    return job, [p for p, _ in found]


def resume_job(job_id: int) -> tuple[BatchJob, list[Part]]:
    """The job's pending partitions, largest first; refuses a job of another kind or one whose
    grids have changed since it started (its done partitions used the old boundaries)."""
    job = BatchJob.objects.filter(pk=job_id, kind=JobKind.REASSIGN).first()
    if job is None:
        raise CommandError(f"no re-assignment job {job_id}")
    if tuple(job.params.get("signature", ())) != grid_signature():
        raise CommandError(f"the grids changed since job {job_id} started: start a new job")
    pending = (BatchPartition.objects.filter(job=job).exclude(state=PartState.DONE)
               .order_by("-rows", "district_code", "month"))
    return job, [Part(p.district_code, p.month) for p in pending]


def reassign_partition(job_id: int, part: Part, *, signature: tuple,
                       index: locate.MicroGridIndex | None = None) -> dict:
    """Re-assign one partition in one transaction (module docstring); returns its figures."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # Named after the worker, for pg_stat_activity (and the kill test) while it runs.
        cursor.execute("SELECT set_config('application_name', %s, true)",
                       [f"geogrid-batch {worker_name()}"[:63]])
        cursor.execute(
            "SELECT id FROM batch_batchpartition WHERE job_id = %s AND district_code = %s"
            " AND month = %s AND state <> 'done' FOR UPDATE",
            [job_id, part.district_code, part.month])
        row = cursor.fetchone()
        if row is None:
            return {"part": part.label, "skipped": True}
        part_id = row[0]
        if index is not None:
            _install(index)
        if locate._signature(cursor) != tuple(signature):
            raise RuntimeError(f"{part.label}: the grids changed since the job started")
        ids, lon, lat, old_grid, old_method = _read_points(cursor, part)
        read = time.perf_counter()
        result = locate.assign_many(lon, lat)
        assigned = time.perf_counter()
        changed = np.flatnonzero((result.grid_id != old_grid)
                                 | (result.method.astype(np.int16) != old_method))
        if len(changed):
            _write_changes(cursor, job_id, part, ids[changed], old_grid[changed],
                           old_method[changed], result, changed)
        cursor.execute(
            "UPDATE batch_batchpartition SET state = 'done', rows = %s, changed = %s,"
            " seconds = %s, worker = %s, finished_at = now() WHERE id = %s",
            [len(ids), len(changed), time.perf_counter() - started, worker_name()[:200],
             part_id])
    done = time.perf_counter()  # after the commit
    return {"part": part.label, "skipped": False, "rows": len(ids), "changed": len(changed),
            "seconds": done - started,
            "times": (read - started, assigned - read, done - assigned)}


def _install(index: locate.MicroGridIndex) -> None:
    """Make the index the client broadcast this process's current one (geogrid.locate checks
    its signature against the database before every bulk use, as for one it built itself)."""
    if locate._cached is index:
        return
    import shapely

    # Pickling drops GEOS's prepared state; the exact tests need it for their speed.
    shapely.prepare(index.geoms)
    shapely.prepare(index.geoms_m)
    shapely.prepare(index.raster.geoms)
    for _key, _ids, raster in index.ancestors:
        shapely.prepare(raster.geoms)
    with locate._cache_lock:
        locate._cached = index


def _read_points(cursor, part: Part) -> tuple[np.ndarray, ...]:
    sql = (
        "COPY (SELECT id, ST_X(location), ST_Y(location), coalesce(grid_id, -1),"
        " coalesce(array_position(%s::text[], assignment::text) - 1, -1)::int2"
        " FROM layers_appeal WHERE district_code = %s AND reported_at >= %s"
        " AND reported_at < %s AND location IS NOT NULL) TO STDOUT (FORMAT BINARY)"
    )
    with cursor.cursor.copy(sql, [METHODS, part.district_code, part.start, part.end]) as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    rows = np.frombuffer(data, dtype=_ROW, offset=_HEADER, count=(len(data) - _HEADER - 2)
                         // _ROW.itemsize)
    return (rows["id"].astype(np.int64), rows["x"].astype(float), rows["y"].astype(float),
            rows["grid"].astype(np.int64), rows["m"].astype(np.int16))


def _write_changes(cursor, job_id: int, part: Part, ids: np.ndarray, old_grid: np.ndarray,
                   old_method: np.ndarray, result: locate.BulkAssignment,
                   changed: np.ndarray) -> None:
    new_grid = result.grid_id[changed]
    new_method = result.method[changed].astype(np.int16)
    # What the SQL rules write: the distance for 'nearest', 0 for a covering grid, NULL when
    # unlocated.
    dist = np.where(new_method == locate.METHOD_CODE["nearest"], result.distance_m[changed], 0.0)
    raw = cursor.cursor
    raw.execute("CREATE TEMP TABLE _batch_changed (id int8, old_grid int8, old_method int2,"
                " new_grid int8, new_method int2, dist float8) ON COMMIT DROP")
    copybin.copy_columns(
        raw, "COPY _batch_changed FROM STDIN (FORMAT BINARY)",
        [(ids, "int8"), (old_grid, "int8"), (old_method, "int2"), (new_grid, "int8"),
         (new_method, "int2"), (dist, "float8")],
        nulls=[None, old_grid < 0, None, new_grid < 0, None, new_grid < 0])
    # Its true size, so the joins below probe the primary key for a few rows instead of
    # hashing the whole partition (or table).
    raw.execute("ANALYZE _batch_changed")
    params = {"m": METHODS, "start": part.start, "end": part.end, "job": job_id}
    # The reported_at range prunes to one partition when the table is partitioned by month;
    # the old grid guards against a change committed since the read (that row is left alone).
    raw.execute(
        """UPDATE layers_appeal a
              SET grid_id = c.new_grid, assignment = (%(m)s::text[])[c.new_method + 1],
                  assignment_distance_m = c.dist
             FROM _batch_changed c
            WHERE a.id = c.id AND a.reported_at >= %(start)s AND a.reported_at < %(end)s
              AND a.grid_id IS NOT DISTINCT FROM c.old_grid
        RETURNING a.id""", params)
    updated = [r[0] for r in raw.fetchall()]
    if len(updated) != len(ids):
        raw.execute("DELETE FROM _batch_changed WHERE id <> ALL(%s)", [updated])
    raw.execute(
        """INSERT INTO layers_reassignment (appeal_id, old_grid_id, new_grid_id, old_method,
                                            new_method, at, actor_id)
           SELECT id, old_grid, new_grid, coalesce((%(m)s::text[])[old_method + 1], ''),
                  (%(m)s::text[])[new_method + 1], now(), NULL FROM _batch_changed""", params)
    raw.execute(
        f"""INSERT INTO {AppealEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)})
            SELECT c.id, 'reassigned', now(), NULL, 'system', a.status, a.status, '',
                   jsonb_build_object('method', (%(m)s::text[])[c.new_method + 1],
                                      'version_id', c.new_grid,
                                      'previous_version_id', c.old_grid, 'batch_job', %(job)s)
              FROM _batch_changed c JOIN layers_appeal a ON a.id = c.id
             WHERE a.reported_at >= %(start)s AND a.reported_at < %(end)s""", params)
    raw.execute("DROP TABLE _batch_changed")  # for a caller's enclosing transaction


def run_job(job: BatchJob, parts: list[Part], *, client: Any = None,
            index_mode: str = "broadcast",
            progress: Callable[[int], Any] | None = None) -> JobReport:
    """Run the pending partitions: on the Dask `client`, or in this process when it is None
    (the same function per partition, without Dask). Marks the job done when every partition
    is, else failed with the first error; never raises for a failed partition."""
    report = JobReport(job)
    signature = tuple(job.params["signature"])
    started = time.perf_counter()

    def account(outcome: dict) -> None:
        if outcome["skipped"]:
            report.skipped += 1
        else:
            report.done += 1
            report.rows += outcome["rows"]
            report.changed += outcome["changed"]
            report.part_seconds.append(outcome["seconds"])
            report.part_times.append(outcome["times"])

    if client is None:
        index = locate.micro_grid_index()
        for part in parts:
            try:
                account(reassign_partition(job.pk, part, signature=signature, index=index))
            except Exception as exc:  # recorded on the job; the other partitions go on
                report.failed.append((part.label, f"{type(exc).__name__}: {exc}"))
            if progress:
                progress(1)
    else:
        from distributed import as_completed

        ctx = Context.here()
        client.register_plugin(DjangoSetup(ctx))
        shared = None
        if index_mode == "broadcast":
            # Built (or loaded from the disk cache) once here, sent once to every worker.
            shared = client.scatter(locate.micro_grid_index(), broadcast=True, hash=False)
        futures = {client.submit(reassign_task, ctx, job.pk, part, signature, shared,
                                 pure=False, retries=1): part for part in parts}
        for future in as_completed(futures):
            try:
                account(future.result())
            except Exception as exc:  # KilledWorker after repeated deaths, or the task's own
                report.failed.append((futures[future].label, f"{type(exc).__name__}: {exc}"))
            if progress:
                progress(1)
    report.seconds = time.perf_counter() - started
    _finish(job, report)
    return report


def _finish(job: BatchJob, report: JobReport) -> None:
    pending = BatchPartition.objects.filter(job=job).exclude(state=PartState.DONE).count()
    job.state = JobState.DONE if pending == 0 else JobState.FAILED
    job.error = "; ".join(f"{label}: {err}" for label, err in report.failed[:5])
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "error", "finished_at"])
