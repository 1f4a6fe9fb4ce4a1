"""Rules of tests/test_url_scope.py for this layer's endpoints."""

from __future__ import annotations

from typing import Any


def rules(roles: tuple[str, ...], target_names: dict[str, str],
          point: dict[str, tuple[float, float]]) -> dict[str, Any]:
    """URL name → rule, for every pattern of the layer."""
    return {}
