"""The points world of tests/layers/volunteering/conftest.py, for the shop tests."""

from tests.layers.volunteering.conftest import world  # noqa: F401
