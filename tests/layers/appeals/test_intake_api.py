"""POST /api/v1/appeals/, GET /api/v1/appeals/{tracking}/ and /api/v1/locate, from a phone."""

from __future__ import annotations

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from geogrid import coords
from layers.appeals.models import Appeal, AppealEvent, AppealPhoto
from tests.factories import make_user
from tests.layers.factories import METRE_LON, B, make_city

pytestmark = pytest.mark.django_db

URL = "/api/v1/appeals/"
INSIDE_B = {"lon": 117.805, "lat": 26.405}


@pytest.fixture
def city():
    return make_city()


def post(client, **data):
    body = {"category": "E0102", **INSIDE_B, "description": "垃圾堆在路边", **data}
    return client.post(URL, body, content_type="application/json")


def jpeg_with_gps(size=(800, 600)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (26.0, 24.0, 18.0), 3: "E", 4: (117.0, 48.0, 18.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_submit_returns_tracking_grid_path_staff(client, city):
    response = post(client, contact_phone="13812345678")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tracking"].startswith("350427-")
    assert len(body["token"]) > 20
    assignment = body["assignment"]
    assert assignment["method"] == "covers"
    assert assignment["grid"]["code"] == B
    assert [g["level"] for g in assignment["grid"]["path"]] == [1, 2, 3, 4, 5]
    assert {s["post"] for s in assignment["staff"]} == {"grid_leader", "grid_worker"}
    appeal = Appeal.objects.get(tracking=body["tracking"])
    assert appeal.grid_id == city[B].id and appeal.raw_crs == "wgs84"
    assert list(appeal.events.values_list("kind", flat=True)) == ["received", "assigned"]


def test_tracking_numbers_are_sequential_per_district_and_day(client, city):
    first = post(client).json()["tracking"]
    second = post(client).json()["tracking"]
    assert first[:-5] == second[:-5]
    assert int(second[-5:]) == int(first[-5:]) + 1


@pytest.mark.django_db(transaction=True)
def test_tracking_numbers_are_unique_under_concurrency():
    from layers.appeals import tracking

    results, errors = [], []

    def take():
        from django.db import connection

        try:
            for _ in range(10):
                results.append(tracking.next_tracking("350427"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(results)) == 40


def test_gcj02_input_is_converted_and_kept_raw(client, city):
    gcj_lon, gcj_lat = coords.from_wgs84(117.805, 26.405, "gcj02")
    response = post(client, lon=gcj_lon, lat=gcj_lat, crs="gcj02")
    assert response.status_code == 201
    appeal = Appeal.objects.get()
    assert appeal.raw_crs == "gcj02" and appeal.raw_x == gcj_lon
    assert coords.distance_m(appeal.location.x, appeal.location.y, 117.805, 26.405) < 0.5
    assert response.json()["assignment"]["grid"]["code"] == B


def test_outside_every_grid_is_kept_unlocated(client, city):
    response = post(client, lon=117.78 - 200 * METRE_LON, lat=26.40)
    assert response.status_code == 201
    assert response.json()["assignment"]["method"] == "unlocated"
    appeal = Appeal.objects.get()
    assert appeal.grid is None and appeal.district_code == "350427"


def test_possible_duplicates_are_reported(client, city):
    first = post(client).json()
    near = post(client, lon=117.805 + 20 * METRE_LON).json()
    # Anonymous: the public id (to support it instead), never its number or state.
    (dup,) = near["possible_duplicates"]
    assert dup["public_id"] == first["public_id"] and set(dup) == {
        "public_id", "distance_m", "reported_at"}
    assert 19 < dup["distance_m"] < 21
    # A dispatcher of the district (hotline intake) may read it: number and state too.
    from tests.factories import assign

    dispatcher = make_user("dispatcher")
    assign(dispatcher, city["350427"], "dispatcher")
    client.force_login(dispatcher)
    again = post(client, lon=117.805 - 10 * METRE_LON, channel="hotline_12345").json()
    nearest = again["possible_duplicates"][0]
    assert (nearest["tracking"], nearest["status"]) == (first["tracking"], "received")
    client.logout()
    other_category = post(client, category="E0505").json()
    assert other_category["possible_duplicates"] == []
    far = post(client, lon=117.805 + 80 * METRE_LON).json()
    assert far["possible_duplicates"] == []


def test_multipart_photos_are_stripped_and_thumbnailed(client, city):
    photo = SimpleUploadedFile("a.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(URL, {"category": "E0102", "lon": "117.805", "lat": "26.405",
                                 "photos": [photo]})
    assert response.status_code == 201, response.json()
    stored = AppealPhoto.objects.get()
    with Image.open(stored.image.path) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info
    with Image.open(stored.thumbnail.path) as thumb:
        assert max(thumb.size) <= 320


def _bad(client, expect_field, expect_text, **data):
    response = post(client, **data) if "raw" not in data else client.post(URL, data["raw"])
    assert response.status_code == 400, response.content
    body = response.json()
    assert expect_field in body["fields"], body
    assert expect_text in " ".join(body["fields"][expect_field])
    assert body["code"] == "invalid" and expect_field in body["detail"]
    assert Appeal.objects.count() == 0 and AppealEvent.objects.count() == 0
    assert AppealPhoto.objects.count() == 0


def test_missing_coordinates(client, city):
    response = client.post(URL, {"category": "E0102"}, content_type="application/json")
    assert response.status_code == 400
    assert "required" in " ".join(response.json()["fields"]["lon"])
    _bad(client, "lat", "both lon and lat", lat=None)
    assert Appeal.objects.count() == 0


def test_non_numeric_coordinates(client, city):
    _bad(client, "lon", "valid number", lon="117,805")


def test_swapped_lat_lon(client, city):
    _bad(client, "lat", "look swapped", lon=26.405, lat=117.805)


def test_unknown_category(client, city):
    _bad(client, "category", "unknown category", category="X9999")


def test_description_of_10000_characters(client, city):
    _bad(client, "description", "at most 2000", description="长" * 10_000)


def test_unknown_crs(client, city):
    _bad(client, "crs", "unknown coordinate system", crs="mars")


def test_photo_of_30_mb(client, city):
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (30 * 2**20),
                             content_type="image/jpeg")
    raw = {"category": "E0102", "lon": "117.805", "lat": "26.405", "photos": [big]}
    _bad(client, "photos", "the limit is 10 MB", raw=raw)


def test_executable_renamed_jpg(client, city):
    elf = SimpleUploadedFile("photo.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 4000,
                             content_type="image/jpeg")
    raw = {"category": "E0102", "lon": "117.805", "lat": "26.405", "photos": [elf]}
    _bad(client, "photos", "not a JPEG, PNG or WebP", raw=raw)


def test_gif_is_refused_by_content(client, city):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    gif = SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")
    raw = {"category": "E0102", "lon": "117.805", "lat": "26.405", "photos": [gif]}
    _bad(client, "photos", "GIF image", raw=raw)


def test_anonymous_submissions_are_rate_limited(client, city, settings):
    settings.GEOGRID = {**settings.GEOGRID, "APPEAL_ANON_RATE": (2, 60)}
    assert post(client).status_code == 201
    assert post(client).status_code == 201
    response = post(client)
    assert response.status_code == 429 and response["Retry-After"] == "60"


def test_hotline_channel_needs_a_dispatcher(client, city):
    response = post(client, channel="hotline_12345")
    assert response.status_code == 403
    client.force_login(make_user("dispatcher"))
    assert post(client, channel="hotline_12345").status_code == 201


def test_reporter_follows_up_with_the_token_phone_masked(client, city):
    body = post(client, contact_phone="13812345678").json()
    url = body["url"]
    assert client.get(url).status_code == 404
    assert client.get(url, HTTP_X_APPEAL_TOKEN="wrong").status_code == 404
    seen = client.get(url, HTTP_X_APPEAL_TOKEN=body["token"])
    assert seen.status_code == 200
    assert seen.json()["contact_phone"] == "138****5678"
    assert [e["kind"] for e in seen.json()["timeline"]] == ["received", "assigned"]


def test_dispatcher_sees_the_phone(client, city):
    from tests.factories import assign

    body = post(client, contact_phone="13812345678").json()
    dispatcher = make_user("dispatcher")
    assign(dispatcher, city["350427"], "dispatcher")
    client.force_login(dispatcher)
    assert client.get(body["url"]).json()["contact_phone"] == "13812345678"


def test_locate(client, city):
    bd_lon, bd_lat = coords.from_wgs84(117.805, 26.405, "bd09")
    body = client.get("/api/v1/locate", {"lon": bd_lon, "lat": bd_lat, "crs": "bd09"}).json()
    assert body["grid"]["code"] == B and body["method"] == "covers"
    assert body["staff"][0]["post"] == "grid_leader"
    bad = client.get("/api/v1/locate", {"lon": "x", "lat": "26.4"})
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["lon"]
    for lon in ("nan", "inf", "1e999"):
        bad = client.get("/api/v1/locate", {"lon": lon, "lat": "26.4"})
        assert bad.status_code == 400 and list(bad.json()["fields"]) == ["lon"], lon
    swapped = client.get("/api/v1/locate", {"lon": "26.405", "lat": "117.805"})
    assert swapped.status_code == 400 and "swapped" in swapped.json()["fields"]["lat"][0]
