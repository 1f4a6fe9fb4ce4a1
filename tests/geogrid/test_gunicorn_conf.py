"""geogrid/gunicorn.conf.py: the production server's settings (docs/operations.md), as the
intake benchmark chose them (docs/benchmarks.md, "Appeal intake under HTTP load")."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "geogrid" / "gunicorn.conf.py"


def _load(monkeypatch, **env: str) -> dict:
    for name in ("GEOGRID_WORKERS", "GEOGRID_THREADS", "GEOGRID_BIND", "GEOGRID_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_threaded_workers_one_per_core(monkeypatch):
    conf = _load(monkeypatch)
    cores = len(os.sched_getaffinity(0))
    assert conf["worker_class"] == "gthread"
    assert (conf["workers"], conf["threads"]) == (cores, 4)
    assert conf["bind"] == "127.0.0.1:8000"  # never a public address: nginx is in front
    assert conf["keepalive"] > 0 and conf["timeout"] == 30


def test_workers_are_not_recycled_every_few_seconds(monkeypatch):
    # Two workers at a few hundred requests/s restarted every ~20 s with max_requests 2000:
    # multi-second stalls while the new one imported Django (docs/benchmarks.md).
    conf = _load(monkeypatch)
    assert conf["max_requests"] - conf["max_requests_jitter"] >= 20_000


def test_environment_overrides(monkeypatch):
    conf = _load(monkeypatch, GEOGRID_WORKERS="3", GEOGRID_THREADS="8",
                 GEOGRID_BIND="unix:/run/geogrid.sock", GEOGRID_ACCESS_LOG="/var/log/a.log")
    assert (conf["workers"], conf["threads"], conf["bind"], conf["accesslog"]) == (
        3, 8, "unix:/run/geogrid.sock", "/var/log/a.log")


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args) -> None:
        self.lines.append(msg % args)

    def exception(self, msg: str, *args) -> None:
        self.lines.append("ERROR " + msg % args)


class _Worker:
    def __init__(self) -> None:
        self.log = _Log()


def test_each_worker_warms_the_assignment_index_before_serving(monkeypatch, db, settings):
    from geogrid import locate
    from tests.factories import make_tree

    settings.GEOGRID = {**settings.GEOGRID, "ASSIGN_INDEX_CACHE_DIR": ""}
    make_tree()
    monkeypatch.setattr(locate, "_cached", None)
    monkeypatch.setattr(locate, "_single_point", False)
    worker = _Worker()
    _load(monkeypatch)["post_worker_init"](worker)
    assert locate._single_point and locate._cached is not None
    assert worker.log.lines == ["assignment index warm: 4 micro-grids"]


def test_a_worker_whose_index_fails_still_starts(monkeypatch):
    from geogrid import locate

    def broken():
        raise RuntimeError("no database")

    monkeypatch.setattr(locate, "warm_index", broken)
    worker = _Worker()
    _load(monkeypatch)["post_worker_init"](worker)
    assert worker.log.lines[0].startswith("ERROR assignment index not built")
