"""The dispatcher is told when deadlines reach a year whose holiday schedule is not imported,
and the admin imports the schedule in one step (geogrid.admin.HolidayScheduleAdmin)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model

from geogrid.models import HolidaySchedule, WorkingDayOverride
from tests.geogrid.test_holiday_schedule import NOTICE_2027
from tests.layers.appeals.workflow_fixtures import A, at, build_city, dispatched

pytestmark = pytest.mark.django_db


@pytest.fixture
def december_2026(monkeypatch):
    # Only the dashboard's idea of today; staff posts and tracking numbers keep the real date.
    monkeypatch.setattr("maps.views.timezone",
                        SimpleNamespace(localdate=lambda: dt.date(2026, 12, 1)))


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("root", password="pw-for-tests-only")
    client.force_login(admin)
    return client


def test_dispatcher_sees_that_2027_is_provisional_until_imported(client, december_2026):
    city = build_city()
    client.force_login(city.users["dispatcher"])
    page = client.get("/maps/dispatch/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="calendar-warning"' in page and "2027" in page and "provisional" in page
    appeal = dispatched(city, A, category="R0102", when=at(2026, 12, 30, 10, 0))
    detail = client.get(f"/api/v1/appeals/{appeal.tracking}/").json()
    assert detail["due_at"].startswith("2027-01-05") and detail["deadline_provisional"] is True

    from geogrid.holiday_schedule import import_schedule
    import_schedule(year=2027, text=NOTICE_2027, source="test notice")
    page = client.get("/maps/dispatch/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="calendar-warning"' not in page
    detail = client.get(f"/api/v1/appeals/{appeal.tracking}/").json()
    assert detail["deadline_provisional"] is False


def test_admin_imports_the_notice_in_one_step(admin_client):
    form = admin_client.get("/admin/geogrid/holidayschedule/add/")
    assert form.status_code == 200 and b'name="text"' in form.content
    response = admin_client.post(
        "/admin/geogrid/holidayschedule/add/",
        {"text": NOTICE_2027, "source": "国办发明电〔2026〕X号 (test)", "year": ""},
        follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.redirect_chain[-1][0] == "/admin/geogrid/holidayschedule/"
    assert "29 holidays, 5 make-up working days" in response.content.decode()
    schedule = HolidaySchedule.objects.get()
    assert schedule.year == 2027 and schedule.imported_by.username == "root"
    assert WorkingDayOverride.objects.filter(schedule=schedule).count() == 34


def test_admin_import_of_a_wrong_notice_shows_why_and_stores_nothing(admin_client):
    response = admin_client.post(
        "/admin/geogrid/holidayschedule/add/",
        {"text": NOTICE_2027.replace("2月20日（周六）", "2月17日（周三）"), "source": "x"},
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "make-up working day 2027-02-17 is a weekday" in response.content.decode()
    assert not HolidaySchedule.objects.exists() and not WorkingDayOverride.objects.exists()
    nul = admin_client.post("/admin/geogrid/holidayschedule/add/",
                            {"text": NOTICE_2027 + "\x00", "source": "x"})
    assert nul.status_code == 200 and not HolidaySchedule.objects.exists()
