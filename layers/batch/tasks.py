"""What a Dask worker runs. Imports nothing from Django at module level: a worker process
unpickles these functions before Django is set up, so each task first calls `ensure_django`.

A worker needs the project importable (the same code as the client), the settings module and the
environment the settings read (SECRET_KEY, DATABASE_URL: var/geogrid.env), and network access to
the database. The client sends the database name with every task (`Context`), so workers of a
test run use the test database and a real cluster cannot silently write to another database.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


@dataclass(frozen=True)
class Context:
    settings_module: str
    database: str  # NAME of the default database on the client

    @classmethod
    def here(cls) -> Context:
        from django.db import connection

        return cls(os.environ.get("DJANGO_SETTINGS_MODULE", "geogrid.settings"),
                   str(connection.settings_dict["NAME"]))


def ensure_django(ctx: Context) -> None:
    """Set Django up in this worker process once, pointed at the client's database."""
    from django.apps import apps

    if not apps.ready:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", ctx.settings_module)
        django.setup()
    from django.conf import settings

    # Connections made from now on (per thread) read this dict.
    settings.DATABASES["default"]["NAME"] = ctx.database


def ensure_connection_target(ctx: Context) -> None:
    """In a task's thread: a connection opened before to another database is closed."""
    ensure_django(ctx)
    from django.db import connection

    if connection.settings_dict["NAME"] != ctx.database:
        connection.close()
        connection.settings_dict["NAME"] = ctx.database


class DjangoSetup(WorkerPlugin):
    """Worker plugin: Django set up in every worker, also one started after a crash, before it
    unpickles anything that imports models (the broadcast grid index does)."""

    name = "geogrid-django"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def setup(self, worker: Any) -> None:
        ensure_django(self.ctx)  # runs on the worker's event loop: no database calls here



def worker_name() -> str:
    try:
        from distributed import get_worker

        return f"{get_worker().address} pid {os.getpid()}"
    except ValueError:  # not inside a Dask worker: the one-process path
        return f"local pid {os.getpid()}"


def reassign_task(ctx: Context, job_id: int, part: Any, signature: tuple,
                  index: Any = None) -> dict:
    ensure_connection_target(ctx)
    from layers.batch.reassign import reassign_partition

    return reassign_partition(job_id, part, signature=signature, index=index)


def hotspots_task(ctx: Context, params: Any) -> list:
    ensure_connection_target(ctx)
    from layers.analytics.hotspots import detect

    return detect(params)


def stats_task(ctx: Context, grid_code: str, since: Any, until: Any, now: Any) -> dict:
    ensure_connection_target(ctx)
    from layers.batch.analytics import partial_stats

    return partial_stats(grid_code, since, until, now)
