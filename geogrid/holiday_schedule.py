"""Importing the State Council's holiday schedule for a year (国务院办公厅关于部分节假日安排的通知).

Each November the State Council publishes next year's holidays and the weekends worked to make
up for them (调休上班). Until a deployment imports it, the days of that year come from the
statutory holidays alone and deadlines that reach into it are provisional
(geogrid.workcalendar). The admin pastes the notice as published; this module reads it:

    一、元旦：1月1日（周五）至3日（周日）放假，共3天。
    二、春节：2月6日（周六）至14日（周日）放假调休，共9天。2月20日（周六）上班。

Every holiday item is checked against the notice's own day count (共N天 / 放假N天), make-up
days must fall on a weekend, and no date may be both; a notice that fails any check is refused
as a whole with every problem listed, and nothing changes. Importing stores the notice, writes
its days as WorkingDayOverride rows (replacing an earlier import of the same year and any
manual row for the same date) and sends `working_calendar_changed` with the dates whose status
actually changed, so the layers re-compute the running deadlines they hold.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from geogrid.calendar_db import working_calendar
from geogrid.models import HolidaySchedule, WorkingDayOverride
from geogrid.signals import working_calendar_changed

FESTIVALS = "元旦|春节|清明节|劳动节|端午节|中秋节|国庆节"
_ITEM = re.compile(rf"((?:{FESTIVALS})(?:[、和](?:{FESTIVALS}))*)\s*[：:]")
_ASIDE = re.compile(r"[（(][^）)]*[）)]")  # (周五), (农历腊月二十八、周日)
_DATE = r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日"
_SPAN = re.compile(rf"{_DATE}(?:\s*[至到\-—~～]\s*{_DATE})?")
_COUNT = re.compile(r"(?:共|放假)\s*(\d{1,2})\s*天")
_YEAR = re.compile(r"(\d{4})\s*年\s*(?:部分)?节假日")


class ScheduleError(ValueError):
    """The notice could not be read; `problems` lists every reason (nothing was imported)."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ScheduleDay:
    date: dt.date
    is_working: bool
    name: str  # the festival; make-up days carry the festival they make up for


@dataclass
class ImportResult:
    schedule: HolidaySchedule
    holidays: int
    make_up_days: int
    replaced_manual: list[dt.date] = field(default_factory=list)
    changed_dates: list[dt.date] = field(default_factory=list)
    deadlines_recomputed: int = 0


def notice_year(text: str) -> int | None:
    """The year a notice is about ('关于2027年部分节假日安排的通知'), if it says."""
    match = _YEAR.search(text)
    return int(match.group(1)) if match else None


def parse_notice(text: str, year: int) -> list[ScheduleDay]:
    """The days of a State Council notice for `year`; raises ScheduleError listing problems."""
    problems: list[str] = []
    stated = notice_year(text)
    if stated is not None and stated != year:
        problems.append(f"the notice is about {stated}, not {year}")
    clean = _ASIDE.sub("", text.replace("\u3000", " "))
    items = list(_ITEM.finditer(clean))
    if not items:
        example = "元旦：1月1日至3日放假，共3天。"
        raise ScheduleError([*problems, f"no holiday found; expected items such as '{example}'"])
    days: dict[dt.date, ScheduleDay] = {}
    for i, item in enumerate(items):
        name = item.group(1)
        body = clean[item.end(): items[i + 1].start() if i + 1 < len(items) else len(clean)]
        problems += _read_item(name, body, year, days)
    for day in days.values():
        if not year - 1 <= day.date.year <= year + 1:
            problems.append(f"{name_of(day)}: {day.date} is too far from {year}")
    if problems:
        raise ScheduleError(problems)
    return sorted(days.values(), key=lambda d: d.date)


def name_of(day: ScheduleDay) -> str:
    return day.name if not day.is_working else f"{day.name}调休上班"


def _read_item(name: str, body: str, year: int, days: dict[dt.date, ScheduleDay]) -> list[str]:
    problems: list[str] = []
    off: list[dt.date] = []
    expected: int | None = None
    for sentence in re.split(r"[。；;\n]", body):
        working = "上班" in sentence
        if not working and "放假" not in sentence and "休息" not in sentence:
            continue
        try:
            dates = _dates(sentence, year)
        except ValueError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if not working:
            count = _COUNT.search(sentence)
            expected = int(count.group(1)) if count else expected
        for date in dates:
            if working and date.weekday() < 5:
                problems.append(f"{name}: make-up working day {date} is a weekday")
            earlier = days.get(date)
            if earlier is not None and earlier.is_working != working:
                problems.append(f"{name}: {date} is both a holiday and a working day")
            days[date] = ScheduleDay(date, working, name)
            if not working:
                off.append(date)
    if not off:
        problems.append(f"{name}: no holiday dates found")
    elif expected is not None and len(set(off)) != expected:
        problems.append(
            f"{name}: the notice says {expected} days off but lists {len(set(off))} "
            f"({off[0]} to {off[-1]})")
    return problems


def _dates(sentence: str, year: int) -> list[dt.date]:
    """Every date in a sentence, spans (1月1日至3日) expanded; month/year carry forward."""
    out: list[dt.date] = []
    month: int | None = None
    for span in _SPAN.finditer(sentence):
        y1, m1, d1, y2, m2, d2 = span.groups()
        if m1 is None and month is None:
            raise ValueError(f"'{span.group(0)}' has no month")
        month = int(m1) if m1 else month
        assert month is not None
        start = _date(int(y1) if y1 else year, month, int(d1))
        if d2 is None:
            out.append(start)
            continue
        end_month = int(m2) if m2 else month
        end_year = int(y2) if y2 else start.year + (1 if end_month < start.month else 0)
        end = _date(end_year, end_month, int(d2))
        if not start <= end <= start + dt.timedelta(days=15):
            raise ValueError(f"'{span.group(0)}' is not a span of a few days")
        out += [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        month = end_month
    return out


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"{year}-{month}-{day} is not a date") from None


@transaction.atomic
def import_schedule(*, year: int, text: str, source: str, acting_user=None) -> ImportResult:
    """Store the notice for `year`, write its days and re-compute what they change."""
    days = parse_notice(text, year)
    before = working_calendar()
    schedule, _ = HolidaySchedule.objects.update_or_create(
        year=year, defaults={"source": source, "text": text, "imported_by": acting_user})
    schedule.days.exclude(date__in=[d.date for d in days]).delete()
    manual = set(WorkingDayOverride.objects.filter(
        date__in=[d.date for d in days], schedule__isnull=True).values_list("date", flat=True))
    for day in days:
        WorkingDayOverride.objects.update_or_create(
            date=day.date,
            defaults={"is_working": day.is_working, "note": name_of(day)[:100],
                      "schedule": schedule})
    after = working_calendar()
    span = [dt.date(year, 1, 1) + dt.timedelta(days=n)
            for n in range((dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days)]
    changed = sorted(
        {d for d in span + [d.date for d in days]
         if before.is_working_day(d) != after.is_working_day(d)})
    result = ImportResult(
        schedule=schedule,
        holidays=sum(not d.is_working for d in days),
        make_up_days=sum(d.is_working for d in days),
        replaced_manual=sorted(manual),
        changed_dates=changed,
    )
    if changed:
        # (receiver, what it returned); the stubs type the replies as str | None.
        replies: Sequence[tuple[object, object]] = working_calendar_changed.send(
            sender=HolidaySchedule, dates=frozenset(changed), actor=acting_user)
        result.deadlines_recomputed = sum(r for _, r in replies if isinstance(r, int))
    return result
