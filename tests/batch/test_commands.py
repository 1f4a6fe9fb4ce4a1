"""Bad input to the batch commands is a CommandError that says what is wrong, and runs nothing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from layers.batch.models import BatchJob

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "2026-13-01"], "not a date"),
    (["--since", "2026-05-01", "--until", "2026-05-20"], "--since must be in a month before"),
    (["--district", "35"], "6-digit district codes"),
    (["--scheduler", "10.0.0.5:8786"], "--scheduler must be an address"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--resume", "999999"], "no re-assignment job 999999"),
    (["--resume", "1", "--district", "350427"], "--resume runs the job as it was planned"),
    (["--no-dask", "--scheduler", "tcp://127.0.0.1:9"], "exclude each other"),
])
def test_batch_reassign_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("batch_reassign", *args)
    assert not BatchJob.objects.exists()  # nothing planned, nothing run


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-02-30"], "take dates"),
    (["--from", "2026-03-01", "--to", "2026-02-01"], "--from is after --to"),
    (["--category", "NOPE"], "unknown category: NOPE"),
    (["--eps", "0"], "--eps must be positive"),
])
def test_batch_hotspots_bad_input(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("batch_hotspots", *args)


def test_resume_refuses_a_job_whose_grids_changed():
    job = BatchJob.objects.create(kind="reassign", params={"signature": [0, 0, None]})
    with pytest.raises(CommandError, match="grids changed since job"):
        call_command("batch_reassign", "--resume", str(job.pk))


def test_batch_reassign_runs_and_resumes_in_process():
    from io import StringIO

    from layers.appeals.models import Appeal, AppealEvent
    from tests.batch.conftest import make_province

    make_province(2_000, months=2)
    out = StringIO()
    call_command("batch_reassign", "--no-dask", "--district", "980101", stdout=out)
    job = BatchJob.objects.get()
    assert f"job {job.pk} done" in out.getvalue() and job.state == "done"
    assert job.partitions.count() == 2  # one district × two months
    moved = Appeal.objects.filter(district_code="980101").exclude(grid=None).count()
    assert moved > 0 and Appeal.objects.exclude(district_code="980101").filter(
        grid__isnull=False).count() == 0
    assert AppealEvent.objects.filter(kind="reassigned").count() == moved
    out = StringIO()
    call_command("batch_reassign", "--no-dask", "--resume", str(job.pk), stdout=out)
    assert "0 partitions to run" in out.getvalue()
    assert AppealEvent.objects.filter(kind="reassigned").count() == moved
