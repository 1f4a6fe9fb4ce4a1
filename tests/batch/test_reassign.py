"""The Dask re-assignment gives every appeal the service's grid, and survives a killed worker."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import numpy as np
import psycopg
import pytest
from django.db import connection

from geogrid import locate
from layers.appeals.models import Appeal, AppealEvent, Reassignment
from layers.batch.models import BatchPartition, JobState, PartState
from layers.batch.reassign import resume_job, run_job, start_job
from tests.batch.conftest import make_province

pytestmark = pytest.mark.django_db(transaction=True)


def _appeals() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ST_X(location), ST_Y(location), coalesce(grid_id, -1),"
                       " assignment FROM layers_appeal ORDER BY id")
        rows = cursor.fetchall()
    ids = np.array([r[0] for r in rows])
    lon = np.array([r[1] for r in rows])
    lat = np.array([r[2] for r in rows])
    grid = np.array([r[3] for r in rows])
    method = np.array([locate.METHOD_CODE[r[4]] for r in rows])
    return ids, lon, lat, grid, method


def _reference() -> tuple[np.ndarray, np.ndarray]:
    """The SQL rules' (the service's reference) grid and method per appeal, by id."""
    _, lon, lat, _, _ = _appeals()
    ref_grid, ref_method, _ = locate.assign_sql(lon, lat)
    return ref_grid, ref_method


def _assert_as_the_service(expect_changed: int, reference: tuple | None = None) -> None:
    """Every appeal has the SQL rules' grid and method; one 'reassigned' row per change."""
    ids, _, _, grid, method = _appeals()
    ref_grid, ref_method = reference or _reference()
    differ = np.flatnonzero((grid != ref_grid) | (method != ref_method))
    assert len(differ) == 0, f"{len(differ)} appeals differ, e.g. id {ids[differ[:5]]}"
    events = AppealEvent.objects.filter(kind="reassigned")
    assert events.count() == expect_changed
    assert events.values("appeal_id").distinct().count() == expect_changed
    assert Reassignment.objects.count() == expect_changed


def test_dask_reassignment_gives_the_service_grid_for_every_point(dask_client):
    make_province(100_000)
    assert Appeal.objects.count() == 100_000
    job, parts = start_job()
    assert len(parts) == 3 * 6  # 3 districts × 6 months
    report = run_job(job, parts, client=dask_client)
    job.refresh_from_db()
    assert job.state == JobState.DONE and not report.failed
    assert report.rows == 100_000
    _, _, _, grid, method = _appeals()
    # All four rules were exercised, and on-vertex points (ties) are in the set.
    counts = np.bincount(method, minlength=4)
    assert all(counts[locate.METHOD_CODE[m]] > 0 for m in locate.METHODS), counts
    # Every appeal started unassigned ('unlocated', no grid): the located ones changed.
    located = int((grid >= 0).sum())
    assert report.changed == located
    reference = _reference()
    _assert_as_the_service(located, reference)
    event = AppealEvent.objects.filter(kind="reassigned").first()
    assert event.data["batch_job"] == job.pk and event.actor_role == "system"
    assert event.data["version_id"] == Appeal.objects.get(pk=event.appeal_id).grid_id
    # Done partitions record where and how long; a second job changes nothing.
    assert all(p.worker.startswith("tcp://") and p.seconds > 0
               for p in BatchPartition.objects.filter(job=job))
    again, parts = start_job()
    second = run_job(again, parts, client=dask_client)
    assert second.changed == 0 and second.rows == 100_000
    _assert_as_the_service(located, reference)


def _hold_partition(dbname: str, job_id: int) -> tuple[psycopg.Connection, str]:
    """Lock the smallest partition's row from another session: its task blocks mid-transaction
    (after it has begun and named itself), so a worker can be killed while it holds work."""
    settings = connection.settings_dict
    conn = psycopg.connect(dbname=dbname, user=settings["USER"], password=settings["PASSWORD"],
                           host=settings["HOST"], port=settings["PORT"])
    row = conn.execute(
        "SELECT id, district_code || '/' || to_char(month, 'YYYY-MM') FROM batch_batchpartition"
        " WHERE job_id = %s ORDER BY rows LIMIT 1 FOR UPDATE", [job_id]).fetchone()
    return conn, row[1]


def _blocked_worker_pid(dbname: str, timeout: float = 60.0) -> int:
    """The OS pid of the worker whose task waits on the held partition (from the
    application_name the task set: 'geogrid-batch tcp://… pid N')."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT application_name FROM pg_stat_activity WHERE datname = %s"
                " AND application_name LIKE 'geogrid-batch tcp://%%' AND wait_event_type = 'Lock'",
                [dbname])
            row = cursor.fetchone()
            if row:
                return int(re.search(r"pid (\d+)", row[0]).group(1))
            time.sleep(0.05)
    raise AssertionError("no task blocked on the held partition")


def test_killed_worker_mid_run_then_rerun_completes_without_duplicates(dask_client):
    make_province(30_000, months=8)
    job, parts = start_job()
    dbname = connection.settings_dict["NAME"]
    holder, held = _hold_partition(dbname, job.pk)
    outcome: dict = {}

    def kill_then_release() -> None:
        pid = _blocked_worker_pid(dbname)
        outcome["done_before_kill"] = BatchPartition.objects.filter(
            job=job, state=PartState.DONE).count()
        os.kill(pid, signal.SIGKILL)
        outcome["killed"] = pid
        time.sleep(0.5)
        holder.rollback()  # release: the retried task (or the re-run) takes the partition
        holder.close()

    killer = threading.Thread(target=kill_then_release)
    killer.start()
    try:
        first = run_job(job, parts, client=dask_client)
    finally:
        killer.join(timeout=90)
        connection.close()  # the thread's connection is its own; this one is reopened below
    assert "killed" in outcome, "the worker was never killed"
    assert 0 < outcome["done_before_kill"] < len(parts)  # mid-run
    job.refresh_from_db()
    # Either Dask retried the partition on a live worker, or the job reports what failed.
    if job.state == JobState.FAILED:
        assert first.failed and job.error
    else:
        assert job.state == JobState.DONE
    # The re-run completes the job; nothing is written twice.
    job, pending = resume_job(job.pk)
    second = run_job(job, pending, client=dask_client)
    job.refresh_from_db()
    assert job.state == JobState.DONE and not second.failed
    assert not BatchPartition.objects.filter(job=job).exclude(state=PartState.DONE).exists()
    changed = sum(BatchPartition.objects.filter(job=job).values_list("changed", flat=True))
    assert changed == first.changed + second.changed
    assert held in {f"{p.district_code}/{p.month:%Y-%m}"
                    for p in BatchPartition.objects.filter(job=job, state=PartState.DONE)}
    located = Appeal.objects.exclude(grid=None).count()
    assert changed == located
    reference = _reference()
    _assert_as_the_service(located, reference)
    # Resuming a finished job again runs nothing and writes nothing.
    job, pending = resume_job(job.pk)
    assert pending == []
    assert run_job(job, pending, client=dask_client).changed == 0
    _assert_as_the_service(located, reference)


def test_one_process_path_gives_the_same_answers():
    make_province(5_000, months=2)
    job, parts = start_job()
    report = run_job(job, parts)
    assert not report.failed and report.rows == 5_000
    _assert_as_the_service(Appeal.objects.exclude(grid=None).count())
