"""The setup scripts: idempotent, and a taken port is a clear error rather than a hang."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB_SH = ROOT / "geogrid" / "provision" / "db.sh"


def test_second_setup_is_fast_and_changes_nothing():
    # `make test` provisioned the database this suite runs on; doing it again only checks.
    started = time.monotonic()
    result = subprocess.run(["bash", str(DB_SH), "up"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "PostGIS 3." in result.stdout
    assert "initialising" not in result.stdout and "creating database" not in result.stdout
    assert elapsed < 10


def test_taken_port_gives_a_clear_error_quickly(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(GEOGRID_VAR_DIR=str(tmp_path / "var"), GEOGRID_DB_PORT=str(port))
        started = time.monotonic()
        result = subprocess.run(
            ["bash", str(DB_SH), "up"], capture_output=True, text=True, env=env, timeout=60
        )
    assert time.monotonic() - started < 10
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is taken by another program" in result.stderr
    assert not (tmp_path / "var" / "postgres").exists()  # nothing was written
