"""Care visits on the phone (/m/care/) and on the dispatcher's dashboard (issue 13's acceptance):
a grid worker opens their overdue visits on a phone-sized page, records a visit with a photo and
an urgent finding, and the follow-up appeal appears on the dispatcher's dashboard; the overdue
panel shows a dispatcher the grid and the due, never a name."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from layers.care.models import Visit, VisitDue
from layers.care.plan import OPEN
from layers.people.models import Person
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_csp import violations, watch
from tests.browser.test_people_dashboard import login
from tests.layers.care.conftest import Ward, build_ward
from tests.layers.factories import COMMUNITY, A

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("categories"),
]

HOME = (117.795, 26.395)  # building a1 of the people town: s1's home
GPS_IFD = 0x8825


@pytest.fixture
def ward(transactional_db, settings, tmp_path) -> Ward:
    """The care ward (tests/layers/care/conftest.py, which puts back the groups a flush
    removed), its s1 (red, visited by gw) overdue."""
    settings.MEDIA_ROOT = tmp_path / "media"
    w = build_ward()
    VisitDue.objects.filter(OPEN, subject=w.subjects["s1"]).update(
        due_at=timezone.now() - dt.timedelta(days=3))
    return w


def jpeg_with_gps() -> bytes:
    """A small photo as a phone takes it: with the camera and where it was (EXIF GPS)."""
    exif = Image.Exif()
    exif[0x010F] = "GeoGridPhone"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (26.0, 23.0, 42.0), 3: "E", 4: (117.0, 47.0, 42.0)})
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(out, format="JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture has GPS
    return data


def names() -> list[str]:
    return [p.name for p in Person.objects.all()]


def test_a_visit_recorded_on_the_phone_raises_an_appeal_the_dispatcher_sees(
        browser, live_server, phone, page, ward):
    s1 = ward.subjects["s1"]
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    # The phone stands at the door: some 15 m from the building's point, ± 12 m.
    phone.context.set_geolocation({"longitude": HOME[0] + 0.0001, "latitude": HOME[1] + 0.0001,
                                   "accuracy": 12})
    csp = watch(phone)  # the page works under the Content-Security-Policy
    login(phone, live_server.url, "gw", "/m/care/")
    phone.wait_for_selector("#dues:not([data-loaded='0'])")
    first = phone.locator("#dues li.care-due").first
    assert first.get_attribute("data-subject") == str(s1.pk)  # overdue first
    assert first.get_attribute("data-overdue") == "1"
    assert s1.person.name in first.inner_text()
    assert phone.inner_text("#n-overdue") == "1"
    screenshot(phone, "care-page-dues")

    first.locator("button").click()
    phone.wait_for_selector(f"#subject[data-subject='{s1.pk}']:not([hidden])")
    assert phone.inner_text("#s-name") == s1.person.name
    assert "*" in phone.inner_text("#s-phone")  # the phone number masked
    assert phone.locator("#s-checklist li").count() == 4

    phone.click("#start-visit")
    phone.wait_for_selector("#v-location[data-state=located]")
    assert phone.input_value("#v-mode") == "home" and phone.input_value("#v-kind") == "key"
    phone.set_input_files("#v-photo", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                              "buffer": jpeg_with_gps()}])
    assert phone.is_hidden("#v-appeal")
    phone.check("#v-findings fieldset[data-area=safety] input[value=urgent]")
    phone.fill("input[name=safety_note]", "煤气灶漏气")
    assert phone.is_visible("#v-appeal")  # an urgent finding asks for the follow-up appeal
    phone.select_option("#v-appeal-category", "E0102")
    phone.fill("#v-appeal-text", "独居老人家煤气灶漏气，需上门检修")
    phone.click("#v-submit")
    phone.wait_for_selector("#s-status[data-visit]")
    screenshot(phone, "care-page-visit-saved")

    visit = Visit.objects.get(subject=s1)
    assert visit.recorded_by.username == "gw" and visit.mode == "home" and visit.urgent
    assert visit.location is not None and visit.accuracy_m == 12
    assert visit.location.x == pytest.approx(HOME[0] + 0.0001)
    assert 5 < visit.distance_m < 30 and not visit.far
    assert visit.safety == "urgent" and visit.safety_note == "煤气灶漏气"
    tracking = visit.appeal.tracking
    assert visit.appeal.grid.code == A
    status = phone.locator("#s-status")
    assert tracking in status.inner_text()
    assert status.get_attribute("data-appeal") == tracking
    assert status.get_attribute("data-far") == "0"
    assert str(round(visit.distance_m)) in status.inner_text()  # the distance, as the user sees it
    # The photo is stored without its EXIF (no GPS, no camera).
    photo = visit.photos.get()
    with default_storage.open(photo.image.name, "rb") as f:
        stored = f.read()
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert b"Exif" not in stored and b"GeoGridPhone" not in stored
    assert violations(phone, csp) == []
    # The visit met the overdue due: the list no longer shows s1 overdue (a 必要访 is now due).
    phone.click("#back")
    phone.wait_for_selector("#dues[data-loaded='3']")
    assert phone.locator(f"li.care-due[data-subject='{s1.pk}'][data-overdue='1']").count() == 0
    assert phone.locator(f"li.care-due[data-subject='{s1.pk}']").count() >= 1

    # The dispatcher of the district sees the appeal on the dashboard and opens it from the map.
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGridTimings && window.GeoGridTimings.firstRefresh")
    page.click("path.leaflet-interactive[fill='#1f6fd1']")
    page.wait_for_function(
        f"() => document.getElementById('a-tracking').textContent === '{tracking}'")
    assert "煤气灶漏气" in page.inner_text("#a-description")
    assert s1.person.name not in page.content()  # the appeal names nobody
    screenshot(page, "care-appeal-on-dashboard")
    assert js_errors(phone) == [] and js_errors(page) == []


def test_the_overdue_panel_shows_a_dispatcher_the_grid_and_the_due_only(page, live_server,
                                                                        ward):
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_selector("#care[data-state=ready]")
    rows = page.locator("#care-overdue li")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-grid") == A
    text = rows.first.inner_text()
    assert "微网格A" in text and "3" in text  # the grid by name, and 3 days overdue
    assert page.inner_text("#n-care-overdue") == "1"
    panel = page.inner_text("#care")
    assert not any(name in panel for name in names())
    assert not any(name in page.content() for name in names())
    assert ward.subjects["s1"].person.name not in page.content()
    # The care layer: the community's figures, small cells suppressed for a dispatcher.
    csp = watch(page)
    page.reload()
    page.wait_for_selector("#care[data-state=ready]")
    page.check("#care-layer")
    page.wait_for_selector("#care[data-layer=ready]")
    assert int(page.get_attribute("#care", "data-features")) >= 1  # the communities
    page.click(f"path[data-care-grid='{COMMUNITY}']")
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert COMMUNITY in popup and "5" in popup  # "fewer than 5: not shown"
    assert not any(name in popup for name in names())
    screenshot(page, "care-overdue-panel")
    assert violations(page, csp) == [] and js_errors(page) == []
