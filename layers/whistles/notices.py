"""Who is told what about a whistle, through the app's notifications (layers.appeals.notifications),
and the line the appeal's timeline shows for each whistle event.

A notice names the whistle by its code, title and the department concerned — never a resident.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from geogrid.models import Post, StaffAssignment
from geogrid.roles import Role
from layers.appeals.models import Department
from layers.appeals.notifications import notify, register_kind
from layers.whistles.models import Whistle, WhistleEvent, WhistleUnit

KIND = "whistle"

TEXTS = {
    "called_in": N_("Whistle %(code)s: your department is called in (%(role)s); report in by "
                    "%(due)s"),
    "requested": N_("Whistle %(code)s requested by a community: approve or decline"),
    "declined": N_("Whistle %(code)s: the request was declined"),
    "reported": N_("Whistle %(code)s: %(department)s reported in"),
    "refused": N_("Whistle %(code)s: %(department)s refused (%(role)s)"),
    "done": N_("Whistle %(code)s: %(department)s finished its part"),
    "released": N_("Whistle %(code)s: your department is released"),
    "sent_back": N_("Whistle %(code)s: the evaluation sent your part back"),
    "cancelled": N_("Whistle %(code)s was cancelled: stand down"),
    "warn": N_("Whistle %(code)s: %(what)s is due at %(due)s"),
    "overdue": N_("Whistle %(code)s: %(what)s is overdue since %(due)s"),
}

MIRROR = {
    "blow": N_("whistle %(code)s blown: %(lead)s leads"),
    "approve": N_("whistle %(code)s blown: %(lead)s leads"),
    "request": N_("the community asked for a whistle (%(code)s)"),
    "report_in": N_("%(department)s reported in"),
    "refuse": N_("%(department)s refused"),
    "finish": N_("%(department)s finished its part"),
    "release": N_("%(department)s released"),
    "replace": N_("%(department)s replaced by %(replaced_by)s"),
    "add_unit": N_("%(department)s called in"),
    "rate": N_("%(department)s rated: %(rating)s"),
    "resolve": N_("whistle %(code)s resolved"),
    "close": N_("whistle %(code)s closed"),
    "cancel": N_("whistle %(code)s cancelled"),
    "decline": N_("the request for whistle %(code)s was declined"),
}


def _render(data: dict) -> str:
    text = TEXTS.get(str(data.get("event")), N_("Whistle %(code)s changed"))
    return _(text) % {"code": "", "role": "", "due": "", "department": "", "what": "", **data}


register_kind(KIND, _render)


def send(users: Iterable[int], whistle: Whistle, **data: object) -> int:
    return notify(sorted(set(users)), whistle.appeal, KIND, code=whistle.code, **data)


def mirror_text(whistle: Whistle, event: WhistleEvent) -> str:
    """The public line on the appeal's timeline (departments are public bodies; no names)."""
    names = dict(Department.objects.filter(
        code__in=[v for k, v in event.data.items() if k in ("department", "lead", "replaced_by")]
    ).values_list("code", "name_zh"))
    data = {k: names.get(str(v), v) for k, v in event.data.items()}
    text = MIRROR.get(event.kind, N_("whistle %(code)s: %(kind)s"))
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
