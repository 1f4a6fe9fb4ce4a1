"""A LocalCluster of 2 worker processes for the module, and the synthetic province's data.

The workers are separate processes with their own connections, so the tests that use them are
transactional (committed data; the tables are flushed afterwards)."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import transaction

from bench import _province


@pytest.fixture(scope="module")
def dask_client():
    from layers.batch.cluster import client_for

    with client_for(None, 2) as client:
        yield client


def make_province(n_points: int, *, nx: int = 60, ny: int = 15, months: int = 6,
                  seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Grids (fewer than 1000 micro-grids: no disk cache of the index) and `n_points`
    unassigned appeals over `months` months from 2026-01; returns the points."""
    from layers.appeals.categories import load_categories

    load_categories()  # a transactional test before this one may have flushed them
    rows, v = _province.grids(nx, ny, districts=3, holes=4)
    lon, lat = _province.points(n_points, v, seed=seed)
    with transaction.atomic():
        _province.insert_grids(rows)
        _province.insert_appeals(lon, lat, _province.district_codes(lon, v, 3), months=months)
    return lon, lat
