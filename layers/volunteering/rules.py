"""The default earning rules (PEOPLE.md (d)); the admin edits or adds rules afterwards.

1 point per hour of service, at most 2 hours counted per activity [K3]; a confirmed micro-wish
10; a care visit by a volunteer 5; at most 20 points a day from each rule.
"""

from __future__ import annotations

from typing import Any

# code, name, points per unit, unit, units counted per activity at most, daily cap
DEFAULT_RULES: tuple[tuple[str, str, str, str, str | None, int | None], ...] = (
    ("service_hour", "Volunteer service (per hour)", "1", "hour", "2", 20),
    ("wish_confirmed", "Micro-wish fulfilled and confirmed", "10", "wish", None, 20),
    ("care_visit", "Care visit by a volunteer", "5", "visit", "1", 20),
)


def ensure_default_rules(model: Any = None) -> None:
    """Create the default rules that are missing (the migration, and tests after a flush)."""
    if model is None:
        from layers.volunteering.models import PointsRule as model
    for code, name, per_unit, unit, max_units, cap in DEFAULT_RULES:
        model.objects.get_or_create(code=code, defaults=dict(
            name=name, points_per_unit=per_unit, unit=unit, max_units_per_activity=max_units,
            daily_cap=cap))
