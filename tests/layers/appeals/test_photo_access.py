"""Appeal photos are served by a view that checks access (layers/appeals/photo_views.py): the
reporter with the token and staff in scope get the bytes, everyone else the one 404; with the
offload settings the web server sends the file instead."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from geogrid.models import Post
from layers.appeals.intake import AppealInput, submit_appeal
from layers.appeals.models import AppealPhoto
from tests.factories import assign, make_user
from tests.layers.factories import DISTRICT, A, make_city

pytestmark = pytest.mark.django_db


def jpeg(size=(120, 90)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, format="JPEG")
    return SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")


@pytest.fixture
def reported():
    """An appeal in micro-grid B with one photo, and its token."""
    grids = make_city()
    result = submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405,
                                       photos=[jpeg()]), actor=AnonymousUser())
    return grids, result.appeal, result.token


def urls(client: Client, appeal, token: str) -> dict:
    body = client.get(f"/api/v1/appeals/{appeal.tracking}/", HTTP_X_APPEAL_TOKEN=token).json()
    return body["photos"][0]


def test_the_api_answers_point_at_the_view_not_at_media(client, reported):
    _grids, appeal, token = reported
    photo = AppealPhoto.objects.get(appeal=appeal)
    out = urls(client, appeal, token)
    base = f"/api/v1/appeals/{appeal.tracking}/photos/{photo.pk}/"
    assert out == {"url": base, "thumbnail": base + "thumbnail/", "width": 120, "height": 90}


def test_the_reporter_with_the_token_gets_the_bytes(client, reported):
    _grids, appeal, token = reported
    photo = AppealPhoto.objects.get(appeal=appeal)
    out = urls(client, appeal, token)
    response = client.get(out["url"], HTTP_X_APPEAL_TOKEN=token)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with photo.image.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    assert "private" in response["Cache-Control"]
    thumb = client.get(out["thumbnail"] + f"?token={token}")  # the query works as well
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(thumb.streaming_content))).width > 0


def test_anyone_else_gets_the_one_404(reported):
    _grids, appeal, token = reported
    out = urls(Client(), appeal, token)
    stranger = Client()
    for url in (out["url"], out["thumbnail"]):
        for headers in ({}, {"HTTP_X_APPEAL_TOKEN": "wrong-token"}):
            response = stranger.get(url, **headers)
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
    # A photo id of this appeal under another tracking number is not found either.
    other = submit_appeal(AppealInput(category="E0102", lon=117.805, lat=26.405),
                          actor=AnonymousUser())
    photo = AppealPhoto.objects.get(appeal=appeal)
    response = stranger.get(f"/api/v1/appeals/{other.appeal.tracking}/photos/{photo.pk}/",
                            HTTP_X_APPEAL_TOKEN=other.token)
    assert response.status_code == 404


def test_staff_in_scope_see_it_staff_elsewhere_do_not(reported):
    grids, appeal, token = reported
    out = urls(Client(), appeal, token)
    dispatcher = make_user("dispatcher")
    assign(dispatcher, grids[DISTRICT], Post.DISPATCHER)
    elsewhere = make_user("grid_worker")
    assign(elsewhere, grids[A], Post.GRID_LEADER)  # micro-grid A; the appeal lies in B
    inside, outside = Client(), Client()
    inside.force_login(dispatcher)
    outside.force_login(elsewhere)
    assert inside.get(out["url"]).status_code == 200
    refused = outside.get(out["url"])
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"


def test_only_get_and_head(client, reported):
    _grids, appeal, token = reported
    out = urls(client, appeal, token)
    assert client.head(out["url"], HTTP_X_APPEAL_TOKEN=token).status_code == 200
    refused = client.post(out["url"], HTTP_X_APPEAL_TOKEN=token)
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"
    assert refused.json()["code"] == "method_not_allowed"


def test_with_x_accel_redirect_nginx_sends_the_file(client, reported, settings):
    _grids, appeal, token = reported
    settings.GEOGRID = {**settings.GEOGRID, "MEDIA_ACCEL_REDIRECT": "/protected-media/"}
    photo = AppealPhoto.objects.get(appeal=appeal)
    out = urls(client, appeal, token)
    response = client.get(out["url"], HTTP_X_APPEAL_TOKEN=token)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert response["Content-Type"] == "image/jpeg"
    thumb = client.get(out["thumbnail"], HTTP_X_APPEAL_TOKEN=token)
    assert thumb["X-Accel-Redirect"] == f"/protected-media/{photo.thumbnail.name}"
    # The check comes first: no header for a stranger.
    refused = Client().get(out["url"])
    assert refused.status_code == 404 and "X-Accel-Redirect" not in refused


def test_with_x_sendfile_the_server_gets_the_path(client, reported, settings):
    _grids, appeal, token = reported
    settings.GEOGRID = {**settings.GEOGRID, "MEDIA_SENDFILE": True}
    photo = AppealPhoto.objects.get(appeal=appeal)
    response = client.get(urls(client, appeal, token)["url"], HTTP_X_APPEAL_TOKEN=token)
    assert response.status_code == 200 and response.content == b""
    assert response["X-Sendfile"] == photo.image.path


def test_nothing_is_served_at_media_url(client, reported):
    _grids, appeal, _token = reported
    photo = AppealPhoto.objects.get(appeal=appeal)
    assert client.get("/media/" + photo.image.name).status_code == 404


def test_the_public_id_names_the_appeal_too_but_opens_nothing(reported):
    _grids, appeal, token = reported
    photo = AppealPhoto.objects.get(appeal=appeal)
    url = f"/api/v1/appeals/{appeal.public_id}/photos/{photo.pk}/"
    assert Client().get(url, HTTP_X_APPEAL_TOKEN=token).status_code == 200
    assert Client().get(url).status_code == 404  # the share link shows no photos
