"""The appeals layer's extension for API clients: an Actor with `client` writes the client's
name into its timeline row's data (Step.finish); a person's actor writes no such key."""

from __future__ import annotations

import pytest

from layers.appeals import transitions
from layers.appeals.actors import Actor
from tests.layers.open311.conftest import A

pytestmark = pytest.mark.django_db


def test_the_row_names_the_client_and_only_then(world):
    account = world.clients["water works system"].user
    first = world.to_department(world.file(A))
    transitions.start(first, Actor(user=account, client="water works system"))
    assert first.events.get(kind="start").data == {"client": "water works system"}
    second = world.to_department(world.file(A, category="E0102"))
    transitions.start(second, Actor(user=account))
    assert "client" not in second.events.get(kind="start").data
