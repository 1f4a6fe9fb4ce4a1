"""Layers tests: photos go to a temporary media folder; rate-limit counters start at zero."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_and_cache(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    # Requests negotiate their language; these tests read the English messages.
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")
