"""An appeal's photos, served only to those who may read the appeal.

    GET /api/v1/appeals/{tracking}/photos/{id}/             the photo (metadata stripped)
    GET /api/v1/appeals/{tracking}/photos/{id}/thumbnail/   its JPEG thumbnail

Who may: the reporter (their account, or the appeal's token in the `X-Appeal-Token` header or
`?token=`) and staff whose posts touch the appeal (`layers.appeals.actors.may_read`). Everyone
else gets the one 404 of geogrid.errors, whether or not the appeal or the photo exists. The
photos of the report and the after-photos of a resolution (timeline rows) are served alike.

Nothing serves MEDIA_URL: the files under MEDIA_ROOT are reachable through this view only, and
the API answers carry its URLs (`photo_url`). The view streams the file itself by default
(FileResponse). A production server offloads the sending once access is decided:

- `GEOGRID["MEDIA_ACCEL_REDIRECT"] = "/protected-media/"` (nginx): the answer is empty with
  `X-Accel-Redirect: /protected-media/<file name>`, and nginx sends the file from an `internal`
  location aliasing MEDIA_ROOT (docs/appeals.md shows it);
- `GEOGRID["MEDIA_SENDFILE"] = True` (Apache mod_xsendfile, lighttpd): `X-Sendfile: <path>`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from rest_framework.exceptions import MethodNotAllowed

from geogrid import accesslog
from geogrid.errors import error_response
from geogrid.models import AccessLog
from layers.appeals.actors import Actor, may_read
from layers.appeals.intake import token_matches
from layers.appeals.models import Appeal, AppealPhoto

# Photos never change once stored (a new photo is a new file), but access can end: a short,
# private lifetime, per credential.
CACHE_CONTROL = "private, max-age=600"


def photo_url(tracking: str, photo_id: int, *, thumbnail: bool = False) -> str:
    """The URL of a photo (or its thumbnail) in API answers: this view, never MEDIA_URL."""
    name = "appeal-photo-thumbnail" if thumbnail else "appeal-photo"
    return reverse(name, args=[tracking, photo_id])


def photo_out(tracking: str, photo: AppealPhoto) -> dict:
    """A photo of appeal `tracking` as the API answers show it: its URL and its thumbnail's."""
    return {"url": photo_url(tracking, photo.pk),
            "thumbnail": photo_url(tracking, photo.pk, thumbnail=True)}


def appeal_photo(request: HttpRequest, tracking: str, photo_id: int,
                 thumbnail: bool = False) -> HttpResponseBase:
    if request.method not in ("GET", "HEAD"):
        refused = error_response(MethodNotAllowed(str(request.method)))
        refused["Allow"] = "GET, HEAD"
        return refused
    # `tracking` may also be the public id, as on every /api/v1/appeals/{ref}/… path.
    photo = (AppealPhoto.objects.select_related(
                 "appeal", "appeal__grid", "appeal__assigned_grid")
             .filter(pk=photo_id, appeal__in=Appeal.objects.by_ref(tracking)).first())
    token = request.headers.get("X-Appeal-Token") or request.GET.get("token")
    if photo is None:
        return error_response(Http404())
    actor = Actor(user=request.user, token_ok=token_matches(photo.appeal, token))
    if not may_read(actor, photo.appeal):
        return error_response(Http404())  # no hint that the appeal or the photo exists
    name = (photo.thumbnail if thumbnail else photo.image).name
    if not name:
        return error_response(Http404())
    response = send_media(name, "image/jpeg" if thumbnail else photo.content_type)
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Cookie, X-Appeal-Token"
    response["Content-Disposition"] = "inline"
    return response


def appeal_photo_thumbnail(request: HttpRequest, tracking: str,
                           photo_id: int) -> HttpResponseBase:
    return appeal_photo(request, tracking, photo_id, thumbnail=True)


def send_media(name: str, content_type: str) -> HttpResponseBase:
    """The file `name` (relative to MEDIA_ROOT): streamed, or handed to the web server."""
    conf = settings.GEOGRID
    accel = conf.get("MEDIA_ACCEL_REDIRECT")
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(name)
        return response
    if conf.get("MEDIA_SENDFILE"):
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = default_storage.path(name)
        return response
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        return error_response(Http404())  # the row outlived its file (a restored database)
    return FileResponse(handle, content_type=content_type)


def send_logged_photo(request: HttpRequest, photo: Any, *, post: str, subject_type: str,
                      thumbnail: bool) -> HttpResponseBase:
    """A private photo of a layer (a row with `image`, `thumbnail` and `content_type`) to a
    viewer already checked: the read goes to the access log first, then the file, cached
    privately and shown inline (care visits, wish deliveries)."""
    with transaction.atomic():
        accesslog.record(request, user=request.user, post=post, action=AccessLog.Action.READ,
                         subject_type=subject_type, subject_ids=[photo.pk],
                         fields=["thumbnail" if thumbnail else "photo"])
    response = send_media((photo.thumbnail if thumbnail else photo.image).name,
                          "image/jpeg" if thumbnail else photo.content_type)
    response["Cache-Control"] = CACHE_CONTROL
    response["Content-Disposition"] = "inline"
    return response
