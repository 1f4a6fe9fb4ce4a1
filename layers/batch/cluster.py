"""A Dask client: to the scheduler at `--scheduler tcp://…`, or to a LocalCluster of worker
processes (one thread each: the work is numpy, GEOS and libpq, and one Django connection per
worker process keeps the database's sessions few)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import CommandError


@contextmanager
def client_for(scheduler: str | None = None, workers: int = 2, *,
               memory_limit: str | None = "auto") -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://",
                                     "wss://")):
            raise CommandError(f"--scheduler must be an address such as tcp://host:8786, "
                               f"not {scheduler!r}")
        try:
            client = Client(scheduler, timeout="5s")
        except OSError as exc:
            raise CommandError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    if workers < 1:
        raise CommandError("--workers must be at least 1")
    # No dashboard: a fixed port would clash between concurrent runs and tests.
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit=memory_limit,
                      silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        yield client
