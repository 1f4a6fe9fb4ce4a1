"""Tokens and the rules the database enforces on placards."""

from __future__ import annotations

import base64
import math
from collections import Counter

import pytest
from django.contrib.gis.geos import Point
from django.db import IntegrityError, transaction
from django.utils import timezone

from layers.placards import tokens
from layers.placards.models import Placard
from tests.layers.placards.factories import World

pytestmark = pytest.mark.django_db


def test_tokens_are_128_random_bits_in_base32_without_padding():
    many = tokens.new_tokens(4000)
    assert len(set(many)) == len(many)
    for token in many[:50]:
        assert len(token) == 26 and tokens.normalise(token) == token
        raw = base64.b32decode(token + "======")
        assert len(raw) == 16
    # Every base32 letter is about equally likely in the first 25 positions (the 26th carries
    # 3 bits and padding): a chi-square test over 100,000 characters, far from any bias.
    counts = Counter("".join(t[:25] for t in many))
    expected = sum(counts.values()) / 32
    chi2 = sum((counts[c] - expected) ** 2 / expected
               for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(counts) == 32 and chi2 < 80  # 31 degrees of freedom: p < 1e-6 at 80
    bits = 26 * math.log2(32)
    assert bits >= 128


def test_normalise_refuses_what_cannot_be_a_token():
    assert tokens.normalise(" abcdefghijklmnopqrstuvwxyz ") == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert tokens.normalise("ABCDEFGHIJKLMNOPQRSTUVWXY8") is None  # 8 is not base32
    assert tokens.normalise("abcdefghijklmnopqrstuvwx23") == "ABCDEFGHIJKLMNOPQRSTUVWX23"
    assert tokens.normalise("A" * 25) is None and tokens.normalise("A" * 27) is None
    assert tokens.normalise("AAAAAAAAAAAAAAAAAAAAAAAAA1") is None  # 1 is not base32


def make(**fields) -> Placard:
    with transaction.atomic():
        return Placard.objects.create(token=tokens.new_token(), **fields)


@pytest.mark.parametrize("fields", [
    {"kind": "building"},  # no building
    {"kind": "stairwell", "unit_no": 1},  # no building
    {"kind": "shop", "name": "店"},  # no point
    {"kind": "shop", "point": Point(117.8, 26.4, srid=4326)},  # no name
    {"kind": "place", "name": "亭", "point": Point(117.8, 26.4, srid=4326), "unit_no": 2},
])
def test_each_kind_needs_its_fields(world: World, fields):
    with pytest.raises(IntegrityError, match="placard_kind_fields"):
        make(**fields)


def test_a_stairwell_names_its_unit_and_a_building_placard_none(world: World):
    a1 = world.buildings["a1"]
    with pytest.raises(IntegrityError, match="placard_kind_fields"):
        make(kind="stairwell", building=a1)
    with pytest.raises(IntegrityError, match="placard_kind_fields"):
        make(kind="building", building=a1, unit_no=1)
    with pytest.raises(IntegrityError, match="placard_kind_fields"):
        make(kind="building", building=a1, point=Point(117.8, 26.4, srid=4326))


def test_one_active_placard_per_door(world: World):
    a1 = world.buildings["a1"]
    first = make(kind="building", building=a1)
    make(kind="stairwell", building=a1, unit_no=1)
    make(kind="stairwell", building=a1, unit_no=2)
    with pytest.raises(IntegrityError, match="placard_one_active_per_door"):
        make(kind="building", building=a1)
    with pytest.raises(IntegrityError, match="placard_one_active_per_door"):
        make(kind="stairwell", building=a1, unit_no=2)
    Placard.objects.filter(pk=first.pk).update(status="revoked", revoked_at=timezone.now(),
                                               revoke_reason="reprinted")
    make(kind="building", building=a1)  # a revoked placard leaves the door free


def test_one_active_placard_per_shop(world: World):
    here = Point(117.806, 26.405, srid=4326)
    make(kind="shop", name="老王小吃", point=here)
    make(kind="shop", name="老李小吃", point=here)  # two shops in one house
    with pytest.raises(IntegrityError, match="placard_one_active_per_shop"):
        make(kind="shop", name="老王小吃", point=here)


def test_a_revoked_placard_carries_when_and_why(world: World):
    a1 = world.buildings["a1"]
    with pytest.raises(IntegrityError, match="placard_revoked_fields"):
        make(kind="building", building=a1, status="revoked", revoked_at=timezone.now())
    with pytest.raises(IntegrityError, match="placard_revoked_fields"):
        make(kind="building", building=a1, status="revoked", revoke_reason="x")
    with pytest.raises(IntegrityError, match="placard_revoked_fields"):
        make(kind="building", building=a1, revoked_at=timezone.now())


def test_the_token_column_refuses_anything_but_base32(world: World):
    with pytest.raises(IntegrityError, match="placard_token_base32"), transaction.atomic():
        Placard.objects.create(token="abc", kind="building", building=world.buildings["a1"])
