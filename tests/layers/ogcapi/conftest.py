"""One OGC API world per test module, built in a transaction rolled back at the end."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.layers.ogcapi.world import World, build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker) -> World:
    with django_db_blocker.unblock(), transaction.atomic():
        yield build()
        transaction.set_rollback(True)
