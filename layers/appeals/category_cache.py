"""The active categories, kept per process: intake looks one up at every submission.

Categories change a few times a year (admin, `load_categories`), appeals arrive hundreds of
times a second, so each process keeps `{code: Category}` of the active ones instead of asking
PostgreSQL every time (one round trip less per submission, docs/benchmarks.md).

Freshness:
- a save or delete of a Category in this process drops the snapshot at once (signals below);
- a snapshot is kept only when read outside a transaction (the views read it before the
  writing transaction): one read inside a transaction may see rows that are rolled back later
  (a test's, or an admin form's that fails), so it serves that call only;
- a code missing from the snapshot is looked up in the database before it is refused, so a
  category added in another process is accepted at once;
- a change made by another process (another gunicorn worker's admin, a command), or without
  model signals (a queryset `update()`, a `bulk_create`), is seen at the latest MAX_AGE
  seconds later: until then a worker may still accept a just-deactivated category or show its
  old name.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from layers.appeals.models import Category

MAX_AGE = 30.0  # seconds a snapshot is trusted for changes made by other processes

_lock = threading.Lock()
_snapshot: dict[str, Category] | None = None
_loaded_at = 0.0


def active_category(code: str) -> Category | None:
    """The active category with this code, or None. The instance is shared by every caller in
    the process: read it, never change it."""
    if connection.in_atomic_block:  # may see rows that are rolled back later: not kept
        return Category.objects.filter(code=code, active=True).first()
    found = _categories().get(code)
    if found is not None:
        return found
    # Not in the snapshot: maybe added by another process since it was taken.
    fresh = Category.objects.filter(code=code, active=True).first()
    if fresh is not None:
        invalidate()
    return fresh


def _categories() -> dict[str, Category]:
    global _snapshot, _loaded_at
    snapshot = _snapshot
    if snapshot is not None and time.monotonic() - _loaded_at < MAX_AGE:
        return snapshot
    with _lock:
        if _snapshot is None or time.monotonic() - _loaded_at >= MAX_AGE:
            _snapshot = {c.code: c for c in Category.objects.filter(active=True)}
            _loaded_at = time.monotonic()
        return _snapshot


def invalidate(**_kwargs: Any) -> None:
    """Drop the snapshot; the next look-up reads the categories again."""
    global _snapshot
    with _lock:
        _snapshot = None


@receiver(post_save, sender=Category, dispatch_uid="layers.appeals.category_cache.saved")
def _saved(**kwargs: Any) -> None:
    _changed()


@receiver(post_delete, sender=Category, dispatch_uid="layers.appeals.category_cache.deleted")
def _deleted(**kwargs: Any) -> None:
    _changed()


@receiver(post_migrate, dispatch_uid="layers.appeals.category_cache.migrated")
def _migrated(**kwargs: Any) -> None:
    invalidate()  # `migrate` and `flush` (tests) change rows without saving models


def _changed() -> None:
    # Now (this thread's next read) and at commit (another thread may have read the old rows
    # in between).
    invalidate()
    transaction.on_commit(invalidate)
