"""Who is told what about a whistle, through the app's notifications (layers.appeals.notifications),
and the line the appeal's timeline shows for each whistle event.

A notice names the whistle by its code, title and the department concerned — never a resident.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from geogrid.models import Post, StaffAssignment
from geogrid.roles import Role
from layers.appeals.models import Department
from layers.appeals.notifications import notify, register_kind
from layers.whistles.models import Whistle, WhistleEvent, WhistleUnit

KIND = "whistle"

TEXTS = {
    "called_in": gettext_noop("Whistle %(code)s: your department is called in (%(role)s); "
                              "report in by %(due)s"),
    "requested": gettext_noop("Whistle %(code)s requested by a community: approve or decline"),
    "declined": gettext_noop("Whistle %(code)s: the request was declined"),
    "reported": gettext_noop("Whistle %(code)s: %(department)s reported in"),
    "refused": gettext_noop("Whistle %(code)s: %(department)s refused (%(role)s)"),
    "done": gettext_noop("Whistle %(code)s: %(department)s finished its part"),
    "released": gettext_noop("Whistle %(code)s: your department is released"),
    "sent_back": gettext_noop("Whistle %(code)s: the evaluation sent your part back"),
    "cancelled": gettext_noop("Whistle %(code)s was cancelled: stand down"),
    "warn": gettext_noop("Whistle %(code)s: %(what)s is due at %(due)s"),
    "overdue": gettext_noop("Whistle %(code)s: %(what)s is overdue since %(due)s"),
}

MIRROR = {
    "blow": gettext_noop("whistle %(code)s blown: %(lead)s leads"),
    "approve": gettext_noop("whistle %(code)s blown: %(lead)s leads"),
    "request": gettext_noop("the community asked for a whistle (%(code)s)"),
    "report_in": gettext_noop("%(department)s reported in"),
    "refuse": gettext_noop("%(department)s refused"),
    "finish": gettext_noop("%(department)s finished its part"),
    "release": gettext_noop("%(department)s released"),
    "replace": gettext_noop("%(department)s replaced by %(replaced_by)s"),
    "add_unit": gettext_noop("%(department)s called in"),
    "rate": gettext_noop("%(department)s rated: %(rating)s"),
    "resolve": gettext_noop("whistle %(code)s resolved"),
    "close": gettext_noop("whistle %(code)s closed"),
    "cancel": gettext_noop("whistle %(code)s cancelled"),
    "decline": gettext_noop("the request for whistle %(code)s was declined"),
}


def _render(data: dict) -> str:
    text = TEXTS.get(str(data.get("event")), gettext_noop("Whistle %(code)s changed"))
    return _(text) % {"code": "", "role": "", "due": "", "department": "", "what": "", **data}


register_kind(KIND, _render)


def send(users: Iterable[int], whistle: Whistle, **data: object) -> int:
    return notify(sorted(set(users)), whistle.appeal, KIND, code=whistle.code, **data)


def mirror_text(whistle: Whistle, event: WhistleEvent,
                names: dict[str, str] | None = None) -> str:
    """The public line on the appeal's timeline (departments are public bodies; no names).
    `names`: department code → name, when the caller has them all already."""
    if names is None:
        names = dict(Department.objects.filter(code__in=[
            v for k, v in event.data.items() if k in ("department", "lead", "replaced_by")
        ]).values_list("code", "name_zh"))
    data = {k: names.get(str(v), v) for k, v in event.data.items()}
    text = MIRROR.get(event.kind, gettext_noop("whistle %(code)s: %(kind)s"))
    return _(text) % {"code": whistle.code, "kind": event.kind, "lead": "", "department": "",
                      "replaced_by": "", "rating": "", **data}


def blowing_office(subdistrict_code: str) -> list[int]:
    """Subdistrict staff of the subdistrict (the office that blows and evaluates)."""
    return list(StaffAssignment.objects.current().filter(
        grid__code=subdistrict_code, post=Post.SUBDISTRICT_STAFF, user__is_active=True)
        .values_list("user_id", flat=True))


def district_dispatchers(district_code: str) -> list[int]:
    return list(StaffAssignment.objects.current().filter(
        grid__code=district_code, user__groups__name=Role.DISPATCHER, user__is_active=True)
        .values_list("user_id", flat=True).distinct())


def requesters(whistle: Whistle) -> list[int]:
    grid = whistle.requested_by_grid
    if grid is None:
        return []
    return list(StaffAssignment.objects.current().filter(
        grid__code=grid.code, post=Post.COMMUNITY_STAFF, user__is_active=True)
        .values_list("user_id", flat=True))


def unit_members(units: Iterable[WhistleUnit]) -> list[int]:
    ids = [u.department_id for u in units]
    return list(Department.members.through.objects.filter(
        department_id__in=ids, user__is_active=True).values_list("user_id", flat=True))
