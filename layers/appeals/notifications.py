"""Notifications: rows shown in the app, plus a pluggable backend (email, SMS…) that is handed
the new rows after the transaction commits. The default backend writes them to the log.

Texts are rendered when read, in the reader's language, from the row's kind and data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from geogrid.models import CHECK_REQUEST_POSTS, StaffAssignment
from geogrid.roles import Role
from layers.appeals.models import Appeal, Notification

log = logging.getLogger("geogrid.notifications")


class ConsoleBackend:
    """Writes each notification to the log (stderr by default). Swap in a class with the same
    `send(notifications)` method through GEOGRID["NOTIFICATION_BACKEND"]."""

    def send(self, notifications: list[Notification]) -> None:
        for note in notifications:
            log.info("notify %s: %s", note.user_id, render(note))


def backend():
    return import_string(settings.GEOGRID.get(
        "NOTIFICATION_BACKEND", "layers.appeals.notifications.ConsoleBackend"))()


# Kinds of other layers (care visits…): kind → a function of the row's data giving the text in
# the active language. A layer registers its kinds once (its AppConfig.ready).
RENDERERS: dict[str, Callable[[dict], str]] = {}


def register_kind(kind: str, text: Callable[[dict], str]) -> None:
    if len(kind) > Notification._meta.get_field("kind").max_length:  # type: ignore[operator]
        raise ValueError(f"notification kind {kind!r} is longer than the column")
    RENDERERS[kind] = text


def render(note: Notification) -> str:
    data = note.data or {}
    if note.kind in RENDERERS:
        return RENDERERS[note.kind](data)
    tracking = data.get("tracking", "")
    texts = {
        "assigned": _("Appeal %(tracking)s was assigned to %(to)s; due %(due)s."),
        "returned": _("Appeal %(tracking)s was returned for re-dispatch: %(note)s"),
        "resolved": _("Appeal %(tracking)s was resolved and waits for your check."),
        "redo": _("Appeal %(tracking)s failed its check and must be redone: %(note)s"),
        "reopened": _("Appeal %(tracking)s was reopened after an unsatisfied rating."),
        "warning": _("Appeal %(tracking)s is due at %(due)s (%(percent)d %% of its time used)."),
        "overdue": _("Appeal %(tracking)s is overdue (due %(due)s) and was escalated to %(to)s."),
        "extended": _("The deadline of appeal %(tracking)s was extended to %(due)s."),
    }
    template = texts.get(note.kind)
    if template is None:
        return f"{note.kind}: {tracking}"
    values = {"tracking": tracking, "to": data.get("to", ""), "note": data.get("note", ""),
              "percent": int(data.get("percent", 0)), "due": local_time(data.get("due"))}
    return template % values


def local_time(iso: str | None) -> str:
    if not iso:
        return "—"
    from django.utils.dateparse import parse_datetime

    moment = parse_datetime(iso)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else iso


def grid_staff(code: str, posts: Iterable[str] | None = None) -> list[int]:
    """Users holding a current post on the current grid with this exact code."""
    rows = StaffAssignment.objects.current().filter(grid__code=code, user__is_active=True)
    if posts is not None:
        rows = rows.filter(post__in=list(posts))
    return sorted(set(rows.values_list("user_id", flat=True)))


def dispatchers_for(appeal: Appeal) -> list[int]:
    """Dispatchers whose posts cover the appeal's grid (or its district when unlocated)."""
    code = appeal.grid.code if appeal.grid else appeal.district_code
    prefixes = [code[:n] for n in range(1, len(code) + 1)]
    return sorted(set(
        StaffAssignment.objects.current().filter(
            grid__code__in=prefixes, user__is_active=True, user__groups__name=Role.DISPATCHER,
        ).values_list("user_id", flat=True)
    ))


def assignee_users(appeal: Appeal) -> list[int]:
    if appeal.department:
        return sorted(appeal.department.members.filter(is_active=True)
                      .values_list("id", flat=True))
    if appeal.assigned_grid:
        return grid_staff(appeal.assigned_grid.code)
    return []


def checkers_for(appeal: Appeal) -> list[int]:
    code = appeal.assigned_grid.code if appeal.assigned_grid else (
        appeal.grid.code if appeal.grid else "")
    leaders = grid_staff(code, CHECK_REQUEST_POSTS) if code else []
    return sorted(set(leaders) | set(dispatchers_for(appeal)))


def notify(user_ids: Iterable[int], appeal: Appeal | None, kind: str, **data) -> int:
    """Store one row per user and hand them to the backend once the transaction commits."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    if appeal is not None:
        data.setdefault("tracking", appeal.tracking)
    rows = Notification.objects.bulk_create(
        [Notification(user_id=uid, appeal=appeal, kind=kind, data=data) for uid in ids]
    )
    transaction.on_commit(lambda: _send(rows))
    return len(rows)


def notify_rows(rows: Iterable[tuple[int, str, dict]]) -> int:
    """Many notifications of differing kinds and data at once: (user id, kind, data) each."""
    stored = Notification.objects.bulk_create(
        [Notification(user_id=uid, kind=kind, data=data) for uid, kind, data in rows])
    if stored:
        transaction.on_commit(lambda: _send(stored))
    return len(stored)


def _send(rows: list[Notification]) -> None:
    try:
        backend().send(rows)
    except Exception:  # a failing SMS gateway must not break the workflow; rows stay readable
        log.exception("notification backend failed")


def for_user(user):
    return Notification.objects.filter(user=user).select_related("appeal")


def mark_read(user, ids: list[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    return rows.update(read_at=timezone.now())

