"""Storing an appeal's photos: the report's (no event) and the after-photos of a resolution
(its timeline row). Files are not transactional, so callers delete what `store` returns when
the transaction that stored them fails (see `deleting_on_failure`)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from geogrid.photos import CleanPhoto
from layers.appeals.models import Appeal, AppealEvent, AppealPhoto


def store(appeal: Appeal, photos: list[CleanPhoto], saved: list[str],
          event: AppealEvent | None = None) -> None:
    """Save each photo and its thumbnail; every file name written is appended to `saved`."""
    infix = "-after" if event is not None else ""
    for photo in photos:
        stem = f"{appeal.tracking}{infix}-{secrets.token_hex(4)}"
        row = AppealPhoto(appeal=appeal, event=event, content_type=photo.content_type,
                          width=photo.width, height=photo.height, size_bytes=len(photo.content))
        row.image.save(f"{stem}.{photo.extension}", ContentFile(photo.content), save=False)
        saved.append(row.image.name)
        row.thumbnail.save(f"{stem}.jpg", ContentFile(photo.thumbnail), save=False)
        saved.append(row.thumbnail.name)
        row.save()


@contextmanager
def deleting_on_failure() -> Iterator[list[str]]:
    """Yields the list `store` fills; deletes those files if the block raises."""
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
