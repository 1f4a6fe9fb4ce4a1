"""Deadlines in working time on China's real calendar: holidays, make-up working days, working
hours, suspension pauses, extensions, and the deployment's own override table."""

from __future__ import annotations

import datetime as dt

import pytest

from geogrid.holiday_schedule import import_schedule
from geogrid.models import WorkingDayOverride
from layers.appeals import transitions
from layers.appeals.deadlines import is_overdue, provisional_years
from layers.appeals.models import Appeal
from tests.geogrid.test_holiday_schedule import NOTICE_2027
from tests.layers.appeals.workflow_fixtures import A, B, at, build_city, dispatched, new_appeal

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return build_city()


def test_three_working_days_from_the_eve_of_national_day_end_on_the_make_up_saturday(city):
    # R0102 is a general (3 working days) request. Oct 1–7 are holidays; Thu 8, Fri 9 and the
    # make-up Saturday Oct 10 are worked.
    appeal = dispatched(city, A, category="R0102", when=at(2026, 9, 30, 10, 0))
    assert appeal.due_at == at(2026, 10, 10, 10, 0)


def test_one_working_day_from_friday_falls_on_the_make_up_saturday(city):
    appeal = dispatched(city, A, category="R0101", when=at(2026, 10, 9, 10, 0))
    assert appeal.due_at == at(2026, 10, 10, 10, 0)


def test_four_working_hours_from_friday_afternoon(city, settings):
    # E0102 (exposed garbage): 4 working hours. 16:00–17:30 is 1.5 h; 2.5 h more from Monday
    # 08:30 is 11:00 with the default afternoon to 17:30 …
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 20, 16, 0))
    assert appeal.due_at == at(2026, 11, 23, 11, 0)
    # … and 11:30, as the issue says, where the afternoon ends at 17:00.
    settings.GEOGRID = {**settings.GEOGRID,
                        "WORKING_PERIODS": (("08:30", "12:00"), ("14:00", "17:00"))}
    other = dispatched(city, A, category="E0102", when=at(2026, 11, 20, 16, 0))
    assert other.due_at == at(2026, 11, 23, 11, 30)


def test_suspension_pauses_the_clock(city):
    d = city.actor("dispatcher")
    appeal = dispatched(city, A, category="R0102", when=at(2026, 11, 16, 9, 0))  # Monday
    assert appeal.due_at == at(2026, 11, 19, 9, 0)
    transitions.suspend(appeal.tracking, d, note="pipe parts ordered", at=at(2026, 11, 17, 9, 0))
    resumed = transitions.resume(appeal.tracking, d, at=at(2026, 11, 19, 9, 0))
    # Two working days suspended: the deadline moves from Thursday to the next Monday.
    assert resumed.due_at == at(2026, 11, 23, 9, 0)
    assert resumed.status == "dispatched"  # back to where it was suspended from
    assert resumed.events.get(kind="resume").data["paused_minutes"] == 2 * 420


def test_an_extension_adds_working_hours(city):
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    assert appeal.due_at == at(2026, 11, 16, 15, 0)  # 3 h before lunch, 1 h after
    later = transitions.extend(appeal.tracking, city.actor("dispatcher"), hours=4,
                            note="needs a lorry", at=at(2026, 11, 16, 10, 0))
    # 8 working hours from Monday 09:00: 6.5 h on Monday, 1.5 h from Tuesday 08:30.
    assert later.due_at == at(2026, 11, 17, 10, 0)


def test_new_years_day_2027_is_not_a_working_day(city):
    # chinese_calendar 1.11 does not know 2027; the statutory holidays come from `holidays`.
    appeal = dispatched(city, A, category="R0102", when=at(2026, 12, 30, 10, 0))
    assert appeal.due_at == at(2027, 1, 5, 10, 0)
    assert provisional_years(appeal) == [2027]
    # The deployment's override table still wins.
    WorkingDayOverride.objects.create(date=dt.date(2027, 1, 4), is_working=False, note="local")
    second = dispatched(city, A, category="R0102", when=at(2026, 12, 30, 10, 0))
    assert second.due_at == at(2027, 1, 6, 10, 0)


def test_importing_the_schedule_moves_running_deadlines_with_a_timeline_row(city):
    # 3 working days from Wed 3 Feb 2027 on the statutory guess: Thu 4, Thu 11, Fri 12
    # (5–10 Feb are the statutory Spring Festival days).
    running = dispatched(city, A, category="R0102", when=at(2027, 2, 3, 10, 0))
    assert running.due_at == at(2027, 2, 12, 10, 0)
    done = dispatched(city, B, category="R0102", when=at(2027, 2, 3, 10, 0))
    transitions.start(done.tracking, city.actor("worker_B"), at=at(2027, 2, 3, 11, 0))
    transitions.resolve(done.tracking, city.actor("worker_B"), result="fixed",
                     at=at(2027, 2, 3, 12, 0))
    result = import_schedule(year=2027, text=NOTICE_2027, source="test notice",
                             acting_user=city.users["dispatcher"])
    assert result.deadlines_recomputed == 1
    running.refresh_from_db()
    # The notice makes 11–13 Feb holidays: Thu 4, Mon 15, Tue 16.
    assert running.due_at == at(2027, 2, 16, 10, 0)
    assert provisional_years(running) == []
    event = running.events.get(kind="recalendared")
    assert dt.datetime.fromisoformat(event.data["from_due_at"]) == at(2027, 2, 12, 10, 0)
    assert not Appeal.objects.get(pk=done.pk).events.filter(kind="recalendared").exists()


def test_handling_time_counts_working_time_without_pauses_and_sets_on_time(city):
    d, worker = city.actor("dispatcher"), city.actor("worker_A")
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    transitions.start(appeal.tracking, worker, at=at(2026, 11, 16, 9, 30))
    transitions.suspend(appeal.tracking, d, note="rain", at=at(2026, 11, 16, 10, 0))
    transitions.resume(appeal.tracking, d, at=at(2026, 11, 16, 11, 0))
    done = transitions.resolve(appeal.tracking, worker, result="swept", at=at(2026, 11, 16, 15, 30),
                            photos=[_jpeg()])
    # 09:00–12:00 and 14:00–15:30 = 270 working minutes, less the 60 suspended.
    assert done.handling_minutes == 210
    done.refresh_from_db()
    assert done.due_at == at(2026, 11, 16, 16, 0) and done.on_time is True
    assert not is_overdue(done)


def test_late_resolution_is_not_on_time(city):
    worker = city.actor("worker_A")
    appeal = dispatched(city, A, category="R0101", when=at(2026, 11, 16, 9, 0))
    transitions.start(appeal.tracking, worker, at=at(2026, 11, 16, 9, 30))
    done = transitions.resolve(appeal.tracking, worker, result="answered",
                            at=at(2026, 11, 18, 9, 0))
    done.refresh_from_db()
    assert done.on_time is False and is_overdue(done)


def test_an_open_appeal_past_its_deadline_is_overdue(city):
    appeal = dispatched(city, A, category="E0102", when=at(2026, 11, 16, 9, 0))
    assert is_overdue(appeal, at(2026, 11, 16, 15, 1))
    assert not is_overdue(appeal, at(2026, 11, 16, 14, 59))


def test_an_event_needs_an_after_photo_a_request_does_not(city):
    from django.core.exceptions import ValidationError

    worker = city.actor("worker_A")
    appeal = dispatched(city, A, category="E0102")
    transitions.start(appeal.tracking, worker)
    with pytest.raises(ValidationError) as err:
        transitions.resolve(appeal.tracking, worker, result="swept")
    assert "photos" in err.value.error_dict
    done = transitions.resolve(appeal.tracking, worker, result="swept", photos=[_jpeg()])
    assert done.events.get(kind="resolve").photos.count() == 1
    request, _ = new_appeal(A, category="R0104")
    assert request.category.kind == "request"


def _jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, "JPEG")
    return SimpleUploadedFile("after.jpg", buffer.getvalue(), content_type="image/jpeg")
