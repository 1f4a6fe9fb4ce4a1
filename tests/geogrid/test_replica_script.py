"""geogrid/provision/replica.sh refuses clearly and quickly, before copying anything (the copy
itself is exercised by tests/geogrid/test_replica.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "geogrid" / "provision" / "replica.sh"


def _run(env_extra: dict[str, str], *, keep_url: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if keep_url or k != "DATABASE_URL"}
    env.update(env_extra)
    return subprocess.run(["bash", str(SCRIPT), "up"], capture_output=True, text=True, env=env,
                          timeout=60)


def test_an_external_database_url_is_refused(tmp_path):
    result = _run({"DATABASE_URL": "postgres://u:p@db.example:5432/geogrid",
                   "GEOGRID_REPLICA_DIR": str(tmp_path / "data")}, keep_url=True)
    assert result.returncode != 0
    assert "DATABASE_URL is set" in result.stderr and "DATABASE_REPLICA_URL" in result.stderr
    assert not (tmp_path / "data").exists()


def test_taken_port_gives_a_clear_error_quickly(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        started = time.monotonic()
        result = _run({"GEOGRID_REPLICA_PORT": str(port),
                       "GEOGRID_REPLICA_DIR": str(tmp_path / "data"),
                       "GEOGRID_REPLICA_ENV_FILE": ""})
    assert time.monotonic() - started < 10
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was copied
