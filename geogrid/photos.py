"""Photo uploads, for every layer: accept JPEG/PNG/WebP by content, bounded size, metadata
stripped, thumbnail. (Storing them is the layer's job: layers/appeals/photos.py.)

Re-encoding the pixels is how EXIF (GPS position, camera serial, time) is removed: nothing of
the original file but its pixels is kept. Orientation is applied first so the photo stays upright.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoError(ValueError):
    """A photo that cannot be accepted; the message says which one and why."""


@dataclass
class CleanPhoto:
    content: bytes
    thumbnail: bytes
    format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return ALLOWED[self.format]

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def clean_photo(upload, number: int) -> CleanPhoto:
    """Check and re-encode one uploaded file (anything with .size and .read())."""
    limit = settings.GEOGRID["APPEAL_PHOTO_MAX_BYTES"]
    if upload.size > limit:
        raise PhotoError(
            _("photo %(n)d is %(size).1f MB; the limit is %(limit).0f MB")
            % {"n": number, "size": upload.size / 2**20, "limit": limit / 2**20}
        )
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, OSError) as exc:
        raise PhotoError(
            _("photo %(n)d is not a JPEG, PNG or WebP image") % {"n": number}
        ) from exc
    if fmt not in ALLOWED:
        raise PhotoError(
            _("photo %(n)d is a %(format)s image; only JPEG, PNG and WebP are accepted")
            % {"n": number, "format": fmt}
        )
    if width * height > settings.GEOGRID["APPEAL_PHOTO_MAX_PIXELS"]:
        raise PhotoError(
            _("photo %(n)d has %(w)d × %(h)d pixels, too many") % {"n": number, "w": width,
                                                                  "h": height}
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise PhotoError(_("photo %(n)d is damaged") % {"n": number}) from exc
    content = _encode(upright, fmt)
    thumb = upright.copy()
    size = settings.GEOGRID["APPEAL_THUMBNAIL_PX"]
    thumb.thumbnail((size, size))
    return CleanPhoto(content, _encode(thumb, "JPEG"), fmt, upright.width, upright.height)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    # No exif=, no pnginfo=: Pillow writes none of the original metadata.
    options = {"JPEG": {"quality": 88}, "WEBP": {"quality": 85}, "PNG": {}}[fmt]
    image.save(out, format=fmt, **options)
    return out.getvalue()


def clean_photos(uploads: list | tuple, field: str = "photos") -> list[CleanPhoto]:
    """Every upload checked (at most APPEAL_MAX_PHOTOS); ValidationError lists each bad one."""
    limit = settings.GEOGRID["APPEAL_MAX_PHOTOS"]
    if len(uploads) > limit:
        raise ValidationError({field: _("at most %(n)d photos") % {"n": limit}})
    cleaned, errors = [], []
    for number, upload in enumerate(uploads, start=1):
        try:
            cleaned.append(clean_photo(upload, number))
        except PhotoError as exc:
            errors.append(str(exc))
    if errors:
        raise ValidationError({field: errors})
    return cleaned


def attach_files(row: Any, photo: CleanPhoto, stem: str, saved: list[str]) -> None:
    """Save a cleaned photo's image and thumbnail into `row`'s `image` and `thumbnail` file
    fields (the row itself is not saved); each file name written is appended to `saved`, so the
    caller deletes them if its transaction fails."""
    row.image.save(f"{stem}.{photo.extension}", ContentFile(photo.content), save=False)
    saved.append(row.image.name)
    row.thumbnail.save(f"{stem}-t.jpg", ContentFile(photo.thumbnail), save=False)
    saved.append(row.thumbnail.name)
