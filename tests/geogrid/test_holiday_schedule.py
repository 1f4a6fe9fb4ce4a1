"""Reading and importing the State Council's holiday notice (geogrid.holiday_schedule)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import chinese_calendar
import pytest

from geogrid.calendar_db import working_calendar
from geogrid.holiday_schedule import ScheduleError, import_schedule, notice_year, parse_notice
from geogrid.models import HolidaySchedule, WorkingDayOverride

DATA = Path(__file__).parent / "data"
NOTICE_2026 = (DATA / "notice-2026.txt").read_text("utf-8")
NOTICE_2027 = (DATA / "notice-2027-test.txt").read_text("utf-8")  # invented dates, for tests


def test_the_real_2026_notice_gives_exactly_chinese_calendars_2026():
    days = parse_notice(NOTICE_2026, 2026)
    # chinese_calendar is an independent source for 2026: every day that is not an ordinary
    # Mon–Fri working day / weekend off must be in the notice, and nothing else.
    deviations = set()
    day = dt.date(2026, 1, 1)
    while day.year == 2026:
        if chinese_calendar.is_workday(day) != (day.weekday() < 5):
            deviations.add((day, chinese_calendar.is_workday(day)))
        day += dt.timedelta(days=1)
    parsed = {(d.date, d.is_working) for d in days}
    assert deviations <= parsed
    for d in days:  # the rest are holidays that fall on a weekend anyway
        assert chinese_calendar.is_workday(d.date) == d.is_working
    assert sum(not d.is_working for d in days) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert [str(d.date) for d in days if d.is_working] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    assert notice_year(NOTICE_2026) == 2026


@pytest.mark.parametrize("text, problem", [
    ("一、元旦：1月1日至3日放假，共4天。", "says 4 days off but lists 3"),
    ("二、春节：2月5日至13日放假调休，共9天。2月17日（周三）上班。", "2027-02-17 is a weekday"),
    ("一、元旦：1月1日至3日放假，共3天。1月2日上班。", "both a holiday and a working day"),
    ("一、元旦：2月30日放假，共1天。", "2027-2-30 is not a date"),
    ("元旦放假一天，春节另行通知。", "no holiday found"),
    ("国务院办公厅关于2028年部分节假日安排的通知\n一、元旦：1月1日放假，共1天。",
     "the notice is about 2028, not 2027"),
])
def test_a_wrong_notice_is_refused_with_the_reason(text, problem):
    with pytest.raises(ScheduleError) as exc:
        parse_notice(text, 2027)
    assert any(problem in p for p in exc.value.problems), exc.value.problems


@pytest.mark.django_db
def test_importing_makes_the_year_authoritative_and_replaces_manual_rows():
    WorkingDayOverride.objects.create(date=dt.date(2027, 1, 1), is_working=False, note="元旦")
    assert working_calendar().provisional_years(dt.date(2026, 12, 30), dt.date(2027, 1, 5)) == [
        2027]
    result = import_schedule(year=2027, text=NOTICE_2027, source="test notice")
    assert (result.holidays, result.make_up_days) == (29, 5)
    assert result.replaced_manual == [dt.date(2027, 1, 1)]
    cal = working_calendar()
    assert cal.provisional_years(dt.date(2026, 12, 30), dt.date(2027, 12, 31)) == []
    # The statutory guess had Thu 11 and Fri 12 Feb worked and Sat 20 Feb off.
    assert not cal.is_working_day(dt.date(2027, 2, 11))
    assert cal.is_working_day(dt.date(2027, 2, 20))
    assert set(result.changed_dates) == {
        dt.date(2027, 2, 11), dt.date(2027, 2, 12), dt.date(2027, 2, 20), dt.date(2027, 4, 2),
        dt.date(2027, 4, 25), dt.date(2027, 5, 5), dt.date(2027, 5, 8), dt.date(2027, 9, 26),
        dt.date(2027, 10, 6), dt.date(2027, 10, 7), dt.date(2027, 10, 9)} - {dt.date(2027, 4, 2)}
    # Importing again with one day fewer removes that day and nothing else.
    shorter = NOTICE_2027.replace("2月20日（周六）上班。", "")
    again = import_schedule(year=2027, text=shorter, source="test notice, corrected")
    assert again.changed_dates == [dt.date(2027, 2, 20)]
    assert not WorkingDayOverride.objects.filter(date=dt.date(2027, 2, 20)).exists()
    assert HolidaySchedule.objects.get().source == "test notice, corrected"


@pytest.mark.django_db
def test_a_refused_notice_changes_nothing():
    before = list(WorkingDayOverride.objects.values_list("date", "is_working"))
    with pytest.raises(ScheduleError):
        import_schedule(year=2027, text=NOTICE_2027.replace("共9天", "共8天"), source="x")
    assert list(WorkingDayOverride.objects.values_list("date", "is_working")) == before
    assert not HolidaySchedule.objects.exists()
