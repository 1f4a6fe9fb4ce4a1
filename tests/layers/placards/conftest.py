from __future__ import annotations

import pytest

from tests.layers.placards.factories import World, build_world


@pytest.fixture
def world(db, categories_loaded) -> World:
    return build_world()


@pytest.fixture
def categories_loaded(db) -> None:
    """The taxonomy the data migration loads (present in a normal test database)."""
    from layers.appeals.models import Category

    assert Category.objects.filter(code="E0102").exists()
