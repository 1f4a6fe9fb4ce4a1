"""A delivery's photos: the goods or the work done (not the wisher), stripped of metadata by
geogrid.photos, stored under MEDIA_ROOT/wishes/ and served only by `claim_photo` to those who
may see the claim — its claimant while the claim is theirs, the wisher, staff in scope — each
read written to the access log.

    GET /api/v1/wishes/claims/{claim}/photos/{id}/            the photo
    GET /api/v1/wishes/claims/{claim}/photos/{id}/thumbnail/  its JPEG thumbnail
"""

from __future__ import annotations

import secrets
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse

from geogrid.errors import error_response
from geogrid.photos import CleanPhoto, attach_files
from layers.appeals.photo_views import send_logged_photo
from layers.wishes.models import Claim, ClaimPhoto


def store_claim_photos(claim: Claim, photos: list[CleanPhoto], user: Any,
                       saved: list[str]) -> None:
    """Save each photo and its thumbnail; every file name written is appended to `saved` (the
    caller deletes them if its transaction fails)."""
    for photo in photos:
        stem = f"claim-{claim.pk}-{secrets.token_hex(6)}"
        row = ClaimPhoto(claim=claim, content_type=photo.content_type, width=photo.width,
                         height=photo.height, size_bytes=len(photo.content), uploaded_by=user)
        attach_files(row, photo, stem, saved)
        row.save()


def photo_urls(claim_id: int, photo_id: int) -> dict[str, str]:
    return {"url": reverse("wishes:claim-photo", args=[claim_id, photo_id]),
            "thumbnail": reverse("wishes:claim-photo-thumbnail", args=[claim_id, photo_id])}


def claim_photo(request: HttpRequest, claim: int, pk: int,
                thumbnail: bool = False) -> HttpResponseBase:
    from layers.wishes.access import Level, WishViewer

    if request.method not in ("GET", "HEAD") or not request.user.is_authenticated:
        return error_response(Http404())
    photo = (ClaimPhoto.objects
             .select_related("claim__wish__grid", "claim__wish__household__dwelling")
             .filter(pk=pk, claim_id=claim).first())
    viewer = WishViewer(request.user)
    level = Level.NONE
    if photo is not None:
        c = photo.claim
        level = viewer.level(c.wish, c if c.status in Claim.LIVE else None)
    if photo is None or level < Level.CLAIMANT:
        return error_response(Http404())  # no hint that the claim or the photo exists
    return send_logged_photo(request, photo, post=viewer.post_for_log(level),
                             subject_type="wish_claim_photo", thumbnail=thumbnail)


def claim_photo_thumbnail(request: HttpRequest, claim: int, pk: int) -> HttpResponseBase:
    return claim_photo(request, claim, pk, thumbnail=True)
