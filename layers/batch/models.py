"""The job table: one BatchJob per run, one BatchPartition per (job, district, month).

A partition's row is the unit of idempotence: a task locks it (SELECT … FOR UPDATE) before it
writes, and marks it done in the same transaction as its writes, so a partition is written once
per job whatever dies or runs twice; a re-run (`--resume JOB`) skips the done ones.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class JobKind(models.TextChoices):
    REASSIGN = "reassign", _("re-assignment")
    HOTSPOTS = "hotspots", _("hotspots")
    STATS = "stats", _("statistics")


class JobState(models.TextChoices):
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class PartState(models.TextChoices):
    PENDING = "pending", _("pending")
    DONE = "done", _("done")


class BatchJob(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=JobKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices,
                             default=JobState.RUNNING)
    scheduler = models.CharField(_("scheduler"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True, default="")

    class Meta:
        verbose_name = _("batch job")
        verbose_name_plural = _("batch jobs")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class BatchPartition(models.Model):
    job = models.ForeignKey(BatchJob, on_delete=models.CASCADE, related_name="partitions")
    district_code = models.CharField(_("district"), max_length=16)
    month = models.DateField(_("month"), help_text=_("first day of the month (local time)"))
    state = models.CharField(_("state"), max_length=16, choices=PartState.choices,
                             default=PartState.PENDING)
    rows = models.IntegerField(_("points read"), null=True, blank=True)
    changed = models.IntegerField(_("appeals changed"), null=True, blank=True)
    seconds = models.FloatField(_("seconds"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True, default="")
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("batch partition")
        verbose_name_plural = _("batch partitions")
        constraints = [
            models.UniqueConstraint(fields=["job", "district_code", "month"],
                                    name="batch_partition_once"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.district_code}:{self.month:%Y-%m}"
