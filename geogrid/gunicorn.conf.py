"""gunicorn settings for GeoGrid: `gunicorn -c geogrid/gunicorn.conf.py geogrid.wsgi`.

Sized for the project's 2-core machines (docs/operations.md; the measurements behind these
values: docs/benchmarks.md, "Appeal intake under HTTP load"). One worker process per core,
each with a few threads: a submission spends more than half its time waiting for PostgreSQL
(on the same cores), and a thread waiting for the database lets another one run. Threaded
workers also keep connections alive, which sync workers cannot: with sync workers every request
paid a new TCP connection in the worker and the client, and at 200 submissions/s offered the
same machine answered 84/s with 2 workers × 4 threads against 38/s with 5 sync workers.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS; the worker and
thread counts also with GEOGRID_WORKERS and GEOGRID_THREADS.
"""

from __future__ import annotations

import os

_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

bind = os.environ.get("GEOGRID_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("GEOGRID_WORKERS", _cores or 1))
threads = int(os.environ.get("GEOGRID_THREADS", 4))  # = database connections per worker
keepalive = 5  # seconds an idle client connection (nginx's upstream keepalive) stays open
timeout = 30  # no web request does long work (imports, exports, backups are commands)
graceful_timeout = 10
# Recycle workers now and then (memory), not all at once. With two workers at a few hundred
# requests a second, 2,000 meant a restart (Django imported again, seconds on a busy machine,
# half the capacity gone meanwhile) every few seconds: p99 of several seconds in the bench.
max_requests = 50_000
max_requests_jitter = 5_000
accesslog = os.environ.get("GEOGRID_ACCESS_LOG", "-")


def post_worker_init(worker) -> None:
    """Build the point → micro-grid index in each worker before it serves (from the disk cache
    in under a second, else a few seconds from the grids), so intake and GET /api/v1/locate
    answer `covers` in process instead of by SQL (geogrid.locate.warm_index). A worker that
    cannot build it still serves, by SQL, and says so in the log."""
    from django.db import connection

    from geogrid.locate import warm_index

    try:
        index = warm_index()
        worker.log.info("assignment index warm: %d micro-grids", len(index.ids))
    except Exception:  # serving by SQL is correct, only slower
        worker.log.exception("assignment index not built; single points go to the SQL")
    finally:
        connection.close()  # the requests run on the worker's threads, with their own
