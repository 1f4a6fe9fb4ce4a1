"""The small sample city's register and its spellings, loaded once per test module."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from tests.layers.buildings.spellings import Spelling, spellings, standards


@dataclass
class SampleRegister:
    index: object  # layers.buildings.geocoding.AddressIndex, built by address_index()
    source_ids: dict[int, str]  # building id → source id
    ids: dict[str, int]  # source id → building id
    spellings: list[Spelling]
    appeals_unlocated: int  # address-only hotline rows the load could not place
    manifest: dict


@pytest.fixture(scope="module")
def sample_register(django_db_setup, django_db_blocker, small_city_dir) -> SampleRegister:
    """Loads the small sample (grids, buildings, staff, appeals — the hotline importer geocodes
    its address-only rows) in a transaction that is rolled back, and keeps what the tests ask:
    the register index the geocoder built from the database and the spellings generated from
    the database's buildings and division names."""
    from django.db import transaction

    from fixtures.load import LoadParams, load_city
    from geogrid.hierarchy import Level
    from geogrid.models import Grid
    from layers.appeals.categories import load_categories
    from layers.buildings.geocoding import address_index
    from layers.buildings.models import Building

    with django_db_blocker.unblock(), transaction.atomic():
        load_categories()  # a transactional test before this module may have flushed them
        # No volunteers, points, wishes or placards: the register is buildings and names.
        report = load_city(LoadParams(small_city_dir, workflow_history=False,
                                      participation=False, progress=False))
        index = address_index()
        rows = list(Building.objects.values_list("id", "source_id", "address", "estate_or_road",
                                                 "building_no", "units"))
        names = Grid.objects.filter(
            level__in=[Level.DISTRICT, Level.SUBDISTRICT, Level.COMMUNITY],
        ).values_list("name", flat=True)
        register = standards([r[1:] for r in rows], list(names))
        transaction.set_rollback(True)
    manifest = json.loads((small_city_dir / "manifest.json").read_text(encoding="utf-8"))
    return SampleRegister(index, {r[0]: r[1] for r in rows}, {r[1]: r[0] for r in rows},
                          spellings(register), report.appeals_unlocated, manifest)
