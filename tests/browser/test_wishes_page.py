"""Micro-wishes on the phone (/m/wishes/, issue 14): a volunteer claims a wish from the wall and
sees the wisher's contact under My claims; a second claim of a wish someone else took shows the
409; the delivery goes up with a photo. The wall names nobody."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from geogrid.models import AccessLog
from layers.people.models import Person
from layers.wishes import services
from layers.wishes.access import WishViewer
from layers.wishes.models import Claim
from tests.browser.conftest import js_errors, screenshot
from tests.browser.test_csp import violations, watch
from tests.browser.test_people_dashboard import login
from tests.layers.factories import COMMUNITY
from tests.layers.wishes.conftest import Square, build_square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def square(transactional_db, settings, tmp_path) -> Square:
    settings.MEDIA_ROOT = tmp_path / "media"
    return build_square()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 160, 90)).save(out, format="JPEG")
    return out.getvalue()


def test_a_volunteer_claims_from_the_wall_and_sees_the_contact(phone, live_server, square):
    mine = square.published("h1")
    taken = square.published("h2", title="帮忙修理轮椅", public_title="一位居民需要修轮椅")
    csp = watch(phone)
    anonymous = phone.goto(f"{live_server.url}/m/wishes/")
    assert anonymous is not None and anonymous.status == 200
    phone.wait_for_selector("#wall:not([data-loaded='0'])")
    assert phone.locator("#wall li.wish-card").count() == 2
    assert phone.locator("button.claim").count() == 0  # not signed in: nothing to claim with

    login(phone, live_server.url, "v1", "/m/wishes/")
    phone.wait_for_selector("#wall:not([data-loaded='0'])")
    content = phone.content()
    for wish in (mine, taken):
        assert wish.wisher.name not in content and wish.title not in content
    assert "13812345678" not in content and "138****5678" not in content
    screenshot(phone, "wishes-wall")

    # Someone else claims the second wish meanwhile; v1's wall still shows it.
    services.claim(taken.pk, WishViewer(square.users["v2"]))
    # Scoped to the wall: after a claim the "my claims" tab renders the same wish card.
    stale = phone.locator(f"#wall li.wish-card[data-wish='{taken.pk}']")
    stale.locator("button.claim").click()
    phone.wait_for_selector(f"#wall li.wish-card[data-wish='{taken.pk}'] .w-status[data-code]")
    assert stale.locator(".w-status").get_attribute("data-code") == "conflict"
    assert stale.locator(".w-status").inner_text().strip()
    assert Claim.objects.get(wish=taken).volunteer == square.volunteers["v2"]

    card = phone.locator(f"#wall li.wish-card[data-wish='{mine.pk}']")
    card.locator("button.claim").click()
    phone.wait_for_selector(f"#wall li.wish-card[data-wish='{mine.pk}'][data-status='claimed']")
    assert card.locator(".w-status").get_attribute("data-code") == "ok"
    claim = Claim.objects.get(wish=mine)
    assert claim.volunteer == square.volunteers["v1"] and claim.status == "active"

    phone.click(".w-tabs button[data-tab=claims]")
    mine_card = phone.locator(f"#claims li.wish-card[data-wish='{mine.pk}']")
    mine_card.wait_for()
    assert mine.title in mine_card.inner_text()  # the claimant sees what to deliver
    mine_card.locator("button.show-contact").click()
    contact = mine_card.locator(".w-contact[data-phone]")
    contact.wait_for()
    assert contact.get_attribute("data-phone") == "13812345678"
    assert mine.wisher.name in contact.inner_text()
    assert AccessLog.objects.filter(user=square.users["v1"], subject_type="wish_wisher",
                                    subject_ids=[mine.wisher_id]).count() == 1
    screenshot(phone, "wishes-contact")

    mine_card.locator("input[type=file]").set_input_files(
        files=[{"name": "gift.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}])
    mine_card.locator(".w-deliver button[type=submit]").click()
    phone.wait_for_selector(f"#claims li.wish-card[data-wish='{mine.pk}']"
                            "[data-claim-status='delivered']")
    claim.refresh_from_db()
    assert claim.status == "delivered" and claim.photos.count() == 1
    assert violations(phone, csp) == [] and js_errors(phone) == []


@pytest.mark.usefixtures("categories")
def test_the_dashboard_layer_shows_wishes_per_grid(page, live_server, square):
    square.published("h1")
    square.claimed("h2", "v1")
    square.published("h3")
    csp = watch(page)
    login(page, live_server.url, "dispatcher", "/maps/dispatch/")
    page.wait_for_function("() => window.GeoGrid && GeoGrid.dashboard")
    assert page.get_attribute("#wishes", "data-state") == "off"  # not drawn until asked for
    page.check("#wishes-layer")
    page.wait_for_selector("#wishes[data-state=ready]")
    assert page.inner_text("#wishes dd[data-figure=open]") == "2"
    assert page.inner_text("#wishes dd[data-figure=claimed]") == "1"
    assert page.inner_text("#wishes dd[data-figure=fulfilled]") == "0"
    page.select_option("select[name=grid]", square.town.grids[COMMUNITY].code)
    page.wait_for_function("() => document.querySelectorAll('path[data-wish-grid]').length"
                           " && document.querySelector('#wishes').dataset.state === 'ready'")
    assert page.inner_text("#wishes dd[data-figure=open]") == "2"
    page.click("path[data-wish-grid]", force=True)
    popup = page.wait_for_selector(".leaflet-popup-content").inner_text()
    assert "(" + COMMUNITY in popup  # a zone of the community, by name and code
    page.uncheck("#wishes-layer")
    page.wait_for_function("() => !document.querySelector('path[data-wish-grid]')")
    assert not any(p.name in page.content() for p in Person.objects.all())
    screenshot(page, "wishes-dashboard-layer")
    assert violations(page, csp) == [] and js_errors(page) == []
