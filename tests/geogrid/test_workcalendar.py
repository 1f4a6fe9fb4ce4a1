"""Working-time arithmetic against China's real 2026 calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from geogrid.workcalendar import WorkingCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(tz=SH)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_three_working_days_over_national_day_count_the_make_up_saturday():
    # Oct 1–7 are holidays; Oct 8 (Thu), Oct 9 (Fri) and the make-up Saturday Oct 10 are worked.
    assert CAL.add_working_days(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 10, 10, 0)


def test_a_weekends_only_calendar_would_get_national_day_wrong():
    naive = WorkingCalendar(
        tz=SH,
        overrides={at(2026, 10, d).date(): at(2026, 10, d).weekday() < 5 for d in range(1, 12)},
    )
    assert naive.add_working_days(at(2026, 9, 30, 10, 0), 3) == at(2026, 10, 5, 10, 0)


def test_four_working_hours_from_friday_afternoon_end_monday_morning():
    # Fri 2026-11-20 16:00–17:30 gives 1.5 h; the remaining 2.5 h run from Mon 08:30.
    assert CAL.add_working_hours(at(2026, 11, 20, 16, 0), 4) == at(2026, 11, 23, 11, 0)
    # With the afternoon ending at 17:00 (a common local variant) it is 11:30.
    short = WorkingCalendar(
        tz=SH, periods=((dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(17)))
    )
    assert short.add_working_hours(at(2026, 11, 20, 16, 0), 4) == at(2026, 11, 23, 11, 30)


def test_lunch_break_and_evenings_do_not_count():
    assert CAL.add_working_hours(at(2026, 11, 18, 11, 0), 2) == at(2026, 11, 18, 15, 0)
    assert CAL.add_working_hours(at(2026, 11, 18, 20, 0), 1) == at(2026, 11, 19, 9, 30)
    # Zero working time from the lunch break is the moment work resumes.
    assert CAL.add_working_minutes(at(2026, 11, 18, 12, 30), 0) == at(2026, 11, 18, 14, 0)


def test_working_minutes_between_inverts_adding():
    start = at(2026, 9, 29, 15, 10)
    end = CAL.add_working_days(start, 5)
    assert CAL.working_minutes_between(start, end) == pytest.approx(5 * 420)
    assert CAL.working_minutes_between(end, start) == 0


def test_years_chinese_calendar_does_not_know_use_the_statutory_holidays_provisionally():
    new_year_2027 = dt.date(2027, 1, 1)  # a Friday that chinese_calendar 1.11 does not know
    assert not CAL.is_authoritative(new_year_2027)
    assert not CAL.is_working_day(new_year_2027)  # New Year's Day, from `holidays`
    assert CAL.is_working_day(dt.date(2027, 1, 4))
    # Dispatched on Wednesday 30 December with 3 working days: Thu 31, Mon 4, Tue 5.
    assert CAL.add_working_days(at(2026, 12, 30, 10, 0), 3) == at(2027, 1, 5, 10, 0)
    assert CAL.provisional_years(at(2026, 12, 30, 10, 0), at(2027, 1, 5, 10, 0)) == [2027]
    assert CAL.provisional_years(at(2026, 3, 1, 10, 0), at(2026, 12, 31, 10, 0)) == []
    # Spring Festival 2027 (5–10 Feb) is off; the make-up Saturdays are not known yet.
    assert [d for d in range(4, 12) if CAL.is_working_day(dt.date(2027, 2, d))] == [4, 11]


def test_overrides_and_imported_years_win():
    new_year_2027 = dt.date(2027, 1, 1)
    local = WorkingCalendar(tz=SH, overrides={new_year_2027: True})
    assert local.is_authoritative(new_year_2027) and local.is_working_day(new_year_2027)
    assert local.provisional_years(new_year_2027, new_year_2027) == [2027]
    imported = WorkingCalendar(tz=SH, imported_years=frozenset({2027}),
                               overrides={dt.date(2027, 2, 20): True})
    assert imported.provisional_years(new_year_2027, dt.date(2027, 12, 31)) == []
    assert imported.is_working_day(dt.date(2027, 2, 20))  # a make-up Saturday


def test_misconfigured_periods_are_refused():
    with pytest.raises(ValueError, match="ordered and not overlap"):
        WorkingCalendar(tz=SH, periods=((dt.time(14), dt.time(12)),))
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_hours(dt.datetime(2026, 11, 18, 9), 1)
