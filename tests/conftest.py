"""Shared fixtures. Every database test runs on the real PostGIS test database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_city_dir(tmp_path_factory) -> Path:
    """The files of the small sample city (fixtures.city, seed 1), generated once per session."""
    out = tmp_path_factory.mktemp("small-city")
    subprocess.run(
        [sys.executable, "-m", "fixtures.city", "--scale", "small", "--seed", "1", "--out",
         str(out)],
        check=True, capture_output=True,
    )
    return out


@pytest.fixture(autouse=True)
def _english_messages():
    # Tests compare messages in English; requests still negotiate their own language, and
    # tests of the Chinese UI activate zh-hans themselves.
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Cached tiles live in the (per-process) cache: every test starts from an empty one, whatever
    # ran before it. (Rate-limit counters are rows of geogrid_ratecounter, rolled back per test.)
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
