"""A visit's photos: the door or the activity (not the person), stripped of metadata by
geogrid.photos, stored under MEDIA_ROOT/care/ and served only by `visit_photo` to those who may
see the visit (FULL or its visitors), each read written to the access log.

    GET /api/v1/care/visits/{visit}/photos/{id}/            the photo
    GET /api/v1/care/visits/{visit}/photos/{id}/thumbnail/  its JPEG thumbnail
"""

from __future__ import annotations

import secrets

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse

from geogrid.errors import error_response
from geogrid.photos import CleanPhoto, attach_files
from layers.appeals.photo_views import send_logged_photo
from layers.care.models import Visit, VisitPhoto


def store_visit_photos(visit: Visit, photos: list[CleanPhoto], saved: list[str]) -> None:
    """Save each photo and its thumbnail; every file name written is appended to `saved` (the
    caller deletes them if its transaction fails)."""
    for photo in photos:
        stem = f"visit-{visit.pk}-{secrets.token_hex(6)}"
        row = VisitPhoto(visit=visit, content_type=photo.content_type, width=photo.width,
                         height=photo.height, size_bytes=len(photo.content))
        attach_files(row, photo, stem, saved)
        row.save()


def photo_urls(visit_id: int, photo_id: int) -> dict:
    return {"url": reverse("care:visit-photo", args=[visit_id, photo_id]),
            "thumbnail": reverse("care:visit-photo-thumbnail", args=[visit_id, photo_id])}


def visit_photo(request: HttpRequest, visit: int, pk: int,
                thumbnail: bool = False) -> HttpResponseBase:
    from layers.care.access import CareViewer, Level, home_of

    if request.method not in ("GET", "HEAD") or not request.user.is_authenticated:
        return error_response(Http404())
    photo = (VisitPhoto.objects.select_related("visit__subject__person")
             .filter(pk=pk, visit_id=visit).first())
    viewer = CareViewer(request.user)
    subject = photo.visit.subject if photo else None
    level = viewer.level(subject, home_of(subject)) if subject else Level.NONE
    if photo is None or level < Level.VISITOR:
        return error_response(Http404())  # no hint that the visit or the photo exists
    return send_logged_photo(request, photo, post=viewer.post_for_log(level),
                             subject_type="care_visit_photo", thumbnail=thumbnail)


def visit_photo_thumbnail(request: HttpRequest, visit: int, pk: int) -> HttpResponseBase:
    return visit_photo(request, visit, pk, thumbnail=True)
