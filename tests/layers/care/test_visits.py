"""Recording a visit through the API: the distance to the home and the far flag, photos without
metadata served only to those who may see the visit, the follow-up appeal of an urgent finding
in the same transaction, and input refused at the edge with the database unchanged."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from layers.appeals.models import Appeal
from layers.care.models import CareEvent, Visit, VisitDue, VisitPhoto

pytestmark = pytest.mark.django_db
# 500 m north of building a1 (117.795, 26.395): 1° of latitude ≈ 110.7 km here.
FAR = (117.795, 26.395 + 500 / 110_700)
NEAR = (117.795, 26.395 + 30 / 110_700)


def client_for(user) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def body(**extra) -> dict:
    end = timezone.now() - dt.timedelta(minutes=5)
    data = {"kind": "key", "mode": "home", "started_at": (end - dt.timedelta(minutes=40))
            .isoformat(), "ended_at": end.isoformat(), "living": "ok", "safety": "ok",
            "family_care": "ok", "services": "ok"}
    data.update(extra)
    return data


def record(user, subject, data, multipart: bool = False):
    url = f"/api/v1/care/subjects/{subject.pk}/actions/record_visit/"
    if multipart:
        return client_for(user).post(url, data)
    return client_for(user).post(url, data, content_type="application/json")


def jpeg_with_gps() -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), (90, 140, 200))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (26.0, 23.0, 42.0), 3: "E", 4: (117.0, 47.0, 42.0)}  # GPS IFD
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(out.getvalue())).getexif()  # the upload does carry EXIF
    return SimpleUploadedFile("door.jpg", out.getvalue(), content_type="image/jpeg")


def test_a_home_visit_500_m_from_the_dwelling_is_flagged_and_one_30_m_away_is_not(ward):
    s1, gw = ward.subjects["s1"], ward.users["gw"]
    far = record(gw, s1, body(lon=FAR[0], lat=FAR[1], accuracy_m=15))
    assert far.status_code == 201, far.content
    assert far.json()["far"] is True and 495 <= far.json()["distance_m"] <= 505
    near = record(gw, s1, body(lon=NEAR[0], lat=NEAR[1], accuracy_m=15))
    assert near.json()["far"] is False and near.json()["distance_m"] < 35
    # By phone, the distance is recorded but a far phone is no cause for a flag.
    call = record(gw, s1, body(mode="chat", lon=FAR[0], lat=FAR[1], accuracy_m=15))
    assert call.json()["far"] is False and call.json()["counts"] is False


def test_an_urgent_finding_raises_the_appeal_and_a_necessary_visit_in_the_same_step(ward):
    s1, mul = ward.subjects["s1"], ward.users["mul"]
    r = record(mul, s1, body(safety="urgent", safety_note="燃气味", appeal_category="E0102",
                             appeal_text="燃气管道漏气，需要排查"))
    assert r.status_code == 201, r.content
    appeal = Appeal.objects.get(tracking=r.json()["appeal"])
    building = ward.town.buildings["a1"]
    assert appeal.location.equals_exact(building.location, 1e-9)
    assert appeal.description == "燃气管道漏气，需要排查"
    assert s1.person.name not in appeal.description + appeal.address
    visit = Visit.objects.get(pk=r.json()["id"])
    assert visit.appeal == appeal and visit.urgent and visit.visitor_role == "visitor"
    assert VisitDue.objects.filter(subject=s1, kind="necessary", trigger="urgent_finding",
                                   met_at__isnull=True).count() == 1


def test_an_urgent_finding_without_an_appeal_category_is_refused_and_nothing_is_stored(ward):
    s1 = ward.subjects["s1"]
    before = (Visit.objects.count(), Appeal.objects.count(), CareEvent.objects.count())
    r = record(ward.users["gw"], s1, body(living="urgent"))
    assert r.status_code == 400 and "appeal_category" in r.json()["fields"]
    assert (Visit.objects.count(), Appeal.objects.count(), CareEvent.objects.count()) == before


def test_a_follow_up_appeal_that_fails_leaves_no_visit_no_appeal_and_no_file(ward, settings):
    s1 = ward.subjects["s1"]
    before = (Visit.objects.count(), Appeal.objects.count(), VisitDue.objects.count())
    r = record(ward.users["gw"], s1, body(safety="urgent", appeal_category="NOPE",
                                          appeal_text="x", photos=[jpeg_with_gps()]),
               multipart=True)
    assert r.status_code == 400 and "appeal_category" in r.json()["fields"]
    assert (Visit.objects.count(), Appeal.objects.count(), VisitDue.objects.count()) == before
    media = settings.MEDIA_ROOT / "care"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_photos_lose_their_exif_and_are_served_only_to_those_who_see_the_visit(ward):
    s1 = ward.subjects["s1"]
    r = record(ward.users["vol"], s1, body(photos=[jpeg_with_gps()]), multipart=True)
    assert r.status_code == 201, r.content
    (urls,) = r.json()["photos"]
    stored = VisitPhoto.objects.get()
    with stored.image.open("rb") as f:
        assert not Image.open(f).getexif()
    assert client_for(ward.users["gw"]).get(urls["url"]).status_code == 200
    assert client_for(ward.users["mul"]).get(urls["thumbnail"]).status_code == 200
    for name in ("bl", "gw_b", "dispatcher", "ss"):  # ss sees s1 masked: no photos
        assert client_for(ward.users[name]).get(urls["url"]).status_code == 404, name
    assert Client().get(urls["url"]).status_code == 404


@pytest.mark.parametrize(("extra", "field"), [
    ({"lon": "nan", "lat": 26.4, "accuracy_m": 5}, "lon"),
    ({"lon": 117.8, "lat": 91, "accuracy_m": 5}, "lat"),
    ({"lon": 117.8, "lat": 26.4}, "accuracy_m"),
    ({"lon": 117.8}, "lat"),
    ({"accuracy_m": -1, "lon": 117.8, "lat": 26.4}, "accuracy_m"),
    ({"mode": "telepathy"}, "mode"),
    ({"living": "fine"}, "living"),
    ({"living_note": "x" * 501}, "living_note"),
    ({"safety_note": "bad\x00byte"}, "safety_note"),
    ({"ended_at": "2099-01-01T00:00:00+08:00"}, "ended_at"),
    ({"started_at": "2020-01-01T00:00:00+08:00"}, "started_at"),
    ({"suggested_colour": "green"}, "suggested_colour"),
    ({"appeal_category": "E0102"}, "appeal_text"),
])
def test_bad_input_names_the_field_and_changes_nothing(ward, extra, field):
    before = (Visit.objects.count(), CareEvent.objects.count(), VisitDue.objects.count())
    r = record(ward.users["gw"], ward.subjects["s1"], body(**extra))
    assert r.status_code == 400, r.content
    assert field in r.json()["fields"], r.json()
    assert (Visit.objects.count(), CareEvent.objects.count(), VisitDue.objects.count()) == before


def test_visits_of_an_exited_subject_are_refused_with_409(ward):
    from layers.care import services
    from layers.care.models import CareProposal
    from tests.layers.care.conftest import viewer

    s3 = ward.subjects["s3"]
    services.exit_care(s3.pk, viewer(ward.users["gw_b"]), reason="moved away")
    services.approve(CareProposal.objects.get(subject=s3, outcome="pending").pk,
                     viewer(ward.users["co"]))
    r = record(ward.users["cs"], s3, body())
    assert r.status_code == 409 and r.json()["current"]["state"] == "exited"
