"""The small sample city (fixtures.city), generated once per test session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_city_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small-city")
    subprocess.run(
        [sys.executable, "-m", "fixtures.city", "--scale", "small", "--seed", "1", "--out",
         str(out)],
        check=True, capture_output=True,
    )
    return out


@pytest.fixture
def small_city(small_city_dir, db) -> dict:
    """Grids, buildings and appeals of the small sample city in the test database."""
    from fixtures.load import LoadParams, load_city

    # The loader imports the appeals through importers.appeals (geocoding, assignment).
    appeals = load_city(LoadParams(small_city_dir, progress=False)).appeals
    manifest = json.loads((small_city_dir / "manifest.json").read_text(encoding="utf-8"))
    return {"dir": small_city_dir, "appeals": appeals, "manifest": manifest}
