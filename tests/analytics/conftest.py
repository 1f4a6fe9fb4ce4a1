"""The small sample city (fixtures.city) in the test database; its files are generated once per
test session (`small_city_dir`, tests/conftest.py)."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def small_city(small_city_dir, django_db_setup, django_db_blocker) -> dict:
    """Grids, buildings and appeals of the small sample city in the test database, loaded once
    per test module in a transaction that is rolled back after the module's last test. Each
    test (marked django_db) runs in a savepoint inside it, rolled back after the test: every
    test sees the sample as loaded, whatever the one before it wrote."""
    from django.db import transaction

    from fixtures.load import LoadParams, load_city
    from layers.appeals.categories import load_categories

    manifest = json.loads((small_city_dir / "manifest.json").read_text(encoding="utf-8"))
    with django_db_blocker.unblock(), transaction.atomic():
        load_categories()  # a transactional test before this module may have flushed them
        # The loader imports the appeals through importers.appeals (geocoding, assignment).
        # No volunteers, points, wishes or placards: nothing here looks at them.
        appeals = load_city(LoadParams(small_city_dir, participation=False,
                                       progress=False)).appeals
        yield {"dir": small_city_dir, "appeals": appeals, "manifest": manifest}
        transaction.set_rollback(True)
