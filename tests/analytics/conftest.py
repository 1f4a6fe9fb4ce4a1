"""The small sample city (fixtures.city) in the test database; its files are generated once per
test session (`small_city_dir`, tests/conftest.py)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def small_city(small_city_dir, db) -> dict:
    """Grids, buildings and appeals of the small sample city in the test database."""
    from fixtures.load import LoadParams, load_city

    # The loader imports the appeals through importers.appeals (geocoding, assignment).
    appeals = load_city(LoadParams(small_city_dir, progress=False)).appeals
    manifest = json.loads((small_city_dir / "manifest.json").read_text(encoding="utf-8"))
    return {"dir": small_city_dir, "appeals": appeals, "manifest": manifest}
