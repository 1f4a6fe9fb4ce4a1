"""Hotspot detection finds the hotspots planted by the sample-city generator, and few others."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.gis.geos import Point

from layers.analytics.hotspots import HotspotParams, active_hotspot_for, detect, refresh_hotspots
from layers.appeals.models import Category

pytestmark = pytest.mark.django_db

WHOLE = HotspotParams(date_from=dt.date(2025, 8, 1), date_to=dt.date(2026, 10, 31))


def distance_m(a: Point, lon: float, lat: float) -> float:
    here = Point(lon, lat, srid=4326)
    return a.transform(32650, clone=True).distance(here.transform(32650, clone=True))


def test_planted_hotspots_are_found_and_few_false_ones(small_city):
    found = detect(WHOLE)
    codes = dict(Category.objects.values_list("id", "code"))
    matched = set()
    for spot in small_city["manifest"]["hotspots"]:
        hits = [
            f
            for f in found
            if codes[f.category_id] == spot["category_code"]
            and distance_m(f.centroid, *spot["centre"]) <= spot["radius_m"]
        ]
        assert hits, f"planted hotspot {spot['id']} ({spot['label']}) not found"
        # At least half of the planted appeals are in the matching clusters (the barbecue
        # stretch is the sparsest: 20 appeals along 400 m).
        assert sum(h.count for h in hits) >= 0.5 * spot["count"], spot["id"]
        matched.update(id(h) for h in hits)
    false = [f for f in found if id(f) not in matched]
    assert len(false) <= 3, [(codes[f.category_id], f.count) for f in false]


def test_a_new_appeal_inside_an_active_hotspot_is_a_repeat_problem(small_city):
    stored = refresh_hotspots(WHOLE)
    assert stored and all(s.pk for s in stored)
    h1 = next(s for s in small_city["manifest"]["hotspots"] if s["id"] == "H1")
    at = dt.datetime(2026, 10, 25, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    spot = active_hotspot_for(Point(*h1["centre"], srid=4326), "L0101", at)
    assert spot is not None and spot.category.code == "L0101"
    assert active_hotspot_for(Point(*h1["centre"], srid=4326), "E0102", at) is None
    far = Point(h1["centre"][0] + 0.02, h1["centre"][1], srid=4326)
    assert active_hotspot_for(far, "L0101", at) is None
    # Half a year after its last report the hotspot is no longer active.
    assert (
        active_hotspot_for(Point(*h1["centre"], srid=4326), "L0101", at + dt.timedelta(days=180))
        is None
    )


def test_clustering_across_categories_lists_the_mix(small_city):
    found = detect(
        HotspotParams(
            date_from=WHOLE.date_from, date_to=WHOLE.date_to, per_category=False, min_points=12
        )
    )
    assert found and all(f.category_id is None for f in found)
    assert sum(found[0].categories.values()) == found[0].count


def test_a_new_appeal_inside_an_active_hotspot_is_flagged_as_a_repeat_problem(small_city):
    from django.contrib.auth.models import AnonymousUser

    from layers.appeals.intake import AppealInput, submit_appeal
    from layers.appeals.views import _repeat

    refresh_hotspots(WHOLE)
    h1 = next(s for s in small_city["manifest"]["hotspots"] if s["id"] == "H1")
    at = dt.datetime(2026, 10, 30, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    lamp = AppealInput(
        category="L0101",
        lon=h1["centre"][0],
        lat=h1["centre"][1],
        crs="wgs84",
        description="路灯又不亮了",
        reported_at=at,
    )
    result = submit_appeal(lamp, actor=AnonymousUser())
    assert result.repeat_of is not None and result.repeat_of.category.code == "L0101"
    assert _repeat(result.repeat_of)["count"] == result.repeat_of.count >= 8
    received = result.appeal.events.get(kind="received")
    assert received.data["repeat_of_hotspot"] == result.repeat_of.pk
    # Another category at the same place is not the same problem.
    lamp.category = "E0102"
    assert submit_appeal(lamp, actor=AnonymousUser()).repeat_of is None
