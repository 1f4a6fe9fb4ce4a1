"""The category taxonomy shipped with GeoGrid (fixtures/categories.json, DOMAIN.md)."""

from __future__ import annotations

import json
from pathlib import Path

from layers.appeals.models import Category

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "categories.json"


def load_categories() -> int:
    """Upsert every category by code (a new database gets them from migration layers.0003;
    tests that flush the database reload them with this). Returns how many."""
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))["categories"]
    for row in rows:
        Category.objects.update_or_create(code=row["code"], defaults={
            k: v for k, v in row.items() if k != "code"})
    return len(rows)
