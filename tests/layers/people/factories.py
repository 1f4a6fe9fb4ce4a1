"""Small people fixtures on the layers test city (tests/layers/factories.make_city): buildings
in micro-grids A and B, dwellings, households with members, micro-units with leaders."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.gis.geos import Point

from layers.buildings.models import Building
from layers.people import identity
from layers.people.models import (
    BuildingLeaderTerm,
    Dwelling,
    Household,
    MicroUnit,
    MicroUnitLeaderTerm,
    Person,
    Residence,
)

_seq = itertools.count(1)


def synthetic_id(birth: dt.date = dt.date(1960, 5, 17), *, division: str = "350427",
                 female: bool = False) -> str:
    """A valid-checksum resident ID number, different on every call."""
    n = next(_seq) % 500
    order = f"{n:02d}{(2 * (n % 5) + (0 if female else 1)) % 10}"[-3:]
    first17 = f"{division}{birth:%Y%m%d}{order}"
    return first17 + identity.check_digit(first17)


def make_building(grid, x: float, y: float, *, estate: str = "洋坊新村", number: str = "1",
                  households: int = 6, units: int = 2) -> Building:
    return Building.objects.create(
        source_id=f"b{next(_seq)}", address=f"沙县区{estate}{number}幢", estate_or_road=estate,
        building_no=number, units=units, households=households,
        location=Point(x, y, srid=4326), grid=grid, assignment="covers")


def make_micro_unit(grid, suffix: str = "001", *, name: str = "", leader=None) -> MicroUnit:
    unit = MicroUnit.objects.create(code=grid.code + suffix, name=name or f"unit {suffix}",
                                    grid=grid)
    if leader is not None:
        MicroUnitLeaderTerm.objects.create(micro_unit=unit, user=leader,
                                           since=dt.date(2025, 1, 1))
    return unit


def make_dwelling(building: Building, room: str, *, unit_no: int = 1,
                  micro_unit: MicroUnit | None = None, **extra) -> Dwelling:
    return Dwelling.objects.create(building=building, unit_no=unit_no, room_no=room,
                                   floor=int(room[:-2]) if room[:-2].isdigit() else None,
                                   micro_unit=micro_unit, **extra)


def make_person(name: str = "张三", *, id_number: str | None = None, phone: str = "13812345678",
                **extra) -> Person:
    number = id_number or synthetic_id()
    sealed = identity.seal_id(number)
    tel = identity.seal_phone(phone)
    birth, gender = identity.birth_date_and_gender(number)
    return Person.objects.create(
        name=name, id_cipher=sealed.cipher, id_hash=sealed.hash, id_masked=sealed.masked,
        phone_cipher=tel.cipher, phone_masked=tel.masked, birth_date=birth, gender=gender,
        **extra)


def make_household(dwelling: Dwelling, members: int = 2, *, tags: list[str] | None = None,
                   since: dt.date = dt.date(2020, 1, 1), **extra) -> Household:
    """A household with `members` persons, the first its head."""
    contact = identity.seal_phone("13900001111", identity.CONTACT_COLUMN)
    household = Household.objects.create(dwelling=dwelling, tags=tags or [],
                                         contact_phone_cipher=contact.cipher,
                                         contact_phone_masked=contact.masked, **extra)
    for i in range(members):
        person = make_person(f"居民{next(_seq)}")
        Residence.objects.create(person=person, household=household,
                                 relation="head" if i == 0 else "child", valid_from=since)
    return household


def lead_building(building: Building, user) -> BuildingLeaderTerm:
    return BuildingLeaderTerm.objects.create(building=building, user=user,
                                             since=dt.date(2025, 1, 1))
