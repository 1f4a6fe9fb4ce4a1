"""Benchmark: import the county's household register (≈117,000 persons in 54,000 households)
through importers.households, against per-row ORM upserts.

    DATABASE_URL=… .venv/bin/python manage.py load_city --scale county   # once
    DATABASE_URL=… .venv/bin/python bench/bench_import_register.py [--persons 117000]

Needs a database holding the county sample's buildings and no people yet (the register is
written for real and deleted at the end; `--clean` deletes people rows left by an earlier run
first). The register is generated from the buildings: every building gets its `households`
dwellings (unit by unit, two rooms a floor), each household 1–6 persons (mean ≈ 2.17), one row
per person as communities keep it — the address with unit and room on the head's row (a tenth
written without the division prefix or with 栋 for 幢), members' address cells empty, synthetic
names, valid-checksum ID numbers, half with a phone, a tenth of households tagged.

Measured in one run, in this order:
1. dry run of the whole register on an empty people layer (everything written, rolled back);
2. the obvious alternative on the first 5,000 persons, rolled back: per row, the geocoder
   (`parse_address`), `get_or_create` of the dwelling, a person looked up by hash and created
   or updated, a household created at each head, a residence, a change-log row per household —
   then extrapolated linearly to the register;
3. the commit;
4. the same file again (dry run and commit): every household unchanged, nothing written.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geogrid.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from geogrid.dbtriggers import purging  # noqa: E402
from importers.households import (  # noqa: E402
    RELATIONS,
    HouseholdImportParams,
    HouseholdImportReport,
    import_households,
)
from layers.buildings.geocoding import parse_address  # noqa: E402
from layers.people import identity  # noqa: E402
from layers.people.models import (  # noqa: E402
    ChangeEvent,
    Dwelling,
    Household,
    Person,
    Residence,
)

HEADER = ["地址", "姓名", "身份证号", "与户主关系", "联系电话", "标签", "户别"]
SIZES = (1, 2, 3, 4, 5, 6)
WEIGHTS = (0.37, 0.32, 0.16, 0.09, 0.05, 0.01)  # mean 2.16 persons per household
MEMBER_RELATIONS = ["配偶", "子", "女", "母亲", "父亲", "孙子", "孙女", "儿媳"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余"
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春梅海燕文斌辉晨"
TAGS = ["独居", "空巢", "高龄", "残疾", "留守"]
PEOPLE_TABLES = ("people_changeverification", "people_changeevent", "people_householdissue",
                 "people_residence", "people_household", "people_person", "people_dwelling")


def generate(path: Path, persons: int, seed: int = 1) -> tuple[int, int]:
    """Write the register; (persons, households) written."""
    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT address, estate_or_road, units, households,
                      count(*) OVER (PARTITION BY estate_or_road, building_no) = 1
                 FROM layers_building ORDER BY id""")
        buildings = cursor.fetchall()
    rows: list[list[str]] = []
    households = 0
    n = 0
    for address, estate, units, count, unique_name in buildings:
        units = max(units, 1)
        for k in range(count):
            if len(rows) >= persons:
                break
            unit = k % units + 1
            floor, side = divmod(k // units, 2)
            room = f"{floor + 1}{side + 1:02d}"
            if units == 1 and count <= 1:
                place = address  # a house: no unit, no room
            elif units == 1:
                place = f"{address}{room}室"
            else:
                place = f"{address}{unit}单元{room}室"
            if unique_name and rng.random() < 0.1:  # no division prefix, 栋 for 幢
                at = place.find(estate)
                place = place[at:].replace("幢", "栋") if at >= 0 else place
            size = rng.choices(SIZES, WEIGHTS)[0]
            surname = rng.choice(SURNAMES)
            tags = rng.choice(TAGS) if rng.random() < 0.1 else ""
            for i in range(size):
                n += 1
                relation = "户主" if i == 0 else MEMBER_RELATIONS[(i - 1) % len(MEMBER_RELATIONS)]
                name = (surname if i in (0, 2, 3) else rng.choice(SURNAMES)) + "".join(
                    rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
                phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}" if (
                    rng.random() < 0.5) else ""
                rows.append([place if i == 0 else "", name, synthetic_id(n), relation, phone,
                             tags if i == 0 else "", "家庭户" if i == 0 else ""])
            households += 1
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows), households


def synthetic_id(n: int) -> str:
    """A unique valid resident ID number for the n-th person (born 1935–2016)."""
    birth = dt.date(1935, 1, 1) + dt.timedelta(days=(n * 7919) % 30_000)
    first17 = f"350427{birth:%Y%m%d}{((n // 30_000) * 2 + n % 2) % 1000:03d}"
    return first17 + identity.check_digit(first17)


def run(path: Path, commit: bool) -> tuple[HouseholdImportReport, float, float]:
    """The report, wall seconds and this process's CPU seconds (the database's not included)."""
    started, cpu = time.perf_counter(), time.process_time()
    report = import_households(HouseholdImportParams(path=path, commit=commit))
    return report, time.perf_counter() - started, time.process_time() - cpu


def show(label: str, report: HouseholdImportReport, seconds: float, cpu: float) -> None:
    assert report.ok, report.lines()[:20]
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    print(f"{label}: {seconds:.1f} s wall, {cpu:.1f} s CPU in Python ({steps}); households "
          f"{report.counts()}, persons {report.persons}, dwellings created "
          f"{report.dwellings_created}, change rows {report.changes}")


class Rollback(Exception):
    pass


_REL = {word: value for value, words in RELATIONS.items() for word in words}


def per_row_orm(path: Path, limit: int) -> tuple[int, float, float]:
    """The obvious importer: one row at a time through the ORM (rolled back). Persons done."""
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:limit + 1]
    today = timezone.localdate()
    started, cpu = time.perf_counter(), time.process_time()
    try:
        with transaction.atomic():
            household = None
            place = None
            for address, name, number, relation, phone, tags, _kind in rows:
                assert identity.resident_id_problem(number) is None
                if address:
                    place = parse_address(address)
                    assert place.building_id is not None
                assert place is not None
                dwelling, _ = Dwelling.objects.get_or_create(
                    building_id=place.building_id, unit_no=place.unit_no or 0,
                    room_no=place.room_no or "1", defaults={"floor": place.floor})
                sealed, tel = identity.seal_id(number), identity.seal_phone(phone)
                person = Person.objects.filter(id_hash=sealed.hash).first()
                birth, gender = identity.birth_date_and_gender(number)
                if person is None:
                    person = Person.objects.create(
                        name=name, id_cipher=sealed.cipher, id_hash=sealed.hash,
                        id_masked=sealed.masked, phone_cipher=tel.cipher,
                        phone_masked=tel.masked, birth_date=birth, gender=gender)
                else:
                    person.name = name
                    person.save(update_fields=["name"])
                if relation == "户主":
                    household = Household.objects.create(dwelling=dwelling,
                                                         tags=[tags] if tags else [])
                    ChangeEvent.objects.create(kind="move_in", household=household,
                                               dwelling=dwelling, effective_date=today,
                                               source="import")
                assert household is not None
                Residence.objects.create(person=person, household=household,
                                         relation=_REL[relation], valid_from=today)
            raise Rollback
    except Rollback:
        pass
    return len(rows), time.perf_counter() - started, time.process_time() - cpu


def people_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(f"(SELECT count(*) FROM {t})"
                                              for t in PEOPLE_TABLES))
        return int(cursor.fetchone()[0])


def clean() -> None:
    """Delete every people row (the change log's append-only trigger allows it inside
    geogrid.dbtriggers.purging, as the retention purge does)."""
    with transaction.atomic(), purging(), connection.cursor() as cursor:
        for table in PEOPLE_TABLES:
            cursor.execute(f"DELETE FROM {table}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=117_000)
    parser.add_argument("--orm-rows", type=int, default=5_000)
    parser.add_argument("--clean", action="store_true",
                        help="delete people rows left by an earlier run first")
    args = parser.parse_args()
    if args.clean:
        clean()
    if people_rows():
        sys.exit("the people tables are not empty (use --clean to empty them)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "county-register.csv"
        started = time.perf_counter()
        persons, households = generate(path, args.persons)
        print(f"register: {persons:,} persons in {households:,} households, "
              f"{path.stat().st_size / 2**20:.1f} MB, generated in "
              f"{time.perf_counter() - started:.1f} s")
        try:
            show("dry run", *run(path, commit=False))
            rows, orm, orm_cpu = per_row_orm(path, args.orm_rows)
            print(f"per-row ORM: {rows:,} persons in {orm:.1f} s wall, {orm_cpu:.1f} s CPU in "
                  f"Python → {orm / rows * 1000:.2f} ms a person, {orm / rows * persons:.0f} s "
                  f"extrapolated to {persons:,}")
            report, seconds, cpu = run(path, commit=True)
            show("commit", report, seconds, cpu)
            print(f"   {seconds / persons * 1e6:.0f} µs a person; "
                  f"{orm / rows * persons / seconds:.0f}× faster than per-row ORM")
            show("again, dry run", *run(path, commit=False))
            show("again, commit", *run(path, commit=True))
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS {peak:.0f} MB")
        finally:
            clean()


if __name__ == "__main__":
    main()
